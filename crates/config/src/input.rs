//! Reading what users give us, safely: only regular files (a FIFO, a device or a folder would
//! block or never end), never more than a stated size (checked before reading and enforced while
//! reading), and JSON with duplicate object keys refused (serde_json would silently keep the last
//! one). Every message names the file.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::io::Read;
use std::path::Path;

/// Largest JSON document accepted (cases, networks, results): 32 MiB. Parsing a JSON document
/// takes about 16 times its size in memory; larger tensors go in `.npy` files.
pub const MAX_JSON_BYTES: u64 = 32 << 20;
/// Largest configuration file: 1 MiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest `.npy` tensor file: 256 MiB.
pub const MAX_NPY_BYTES: u64 = 256 << 20;

/// Reads `path` (a regular file, symlinks followed) of at most `limit` bytes; `what` names the
/// kind of file in messages.
pub fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() { "a folder" } else { "not a regular file (a FIFO, socket or device)" };
        return Err(format!("{}: is {kind}; a {what} must be a regular file", path.display()));
    }
    if meta.len() > limit {
        return Err(format!(
            "{}: {} bytes is larger than the {limit} bytes allowed for a {what}",
            path.display(),
            meta.len()
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` guards against a file that grows while it is read.
    f.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{}: larger than the {limit} bytes allowed for a {what}", path.display()));
    }
    Ok(bytes)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    String::from_utf8(read_limited(path, limit, what)?)
        .map_err(|e| format!("{}: not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
}

/// Parses JSON, refusing duplicate keys in any object with the key's path
/// (`duplicate field "pe_array.rows"`).
pub fn parse_json(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = StrictValue::deserialize_at(&mut de, String::new()).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// A JSON value built while checking for duplicate keys; `path` is where it sits.
struct StrictValue;

impl StrictValue {
    fn deserialize_at<'de, D: Deserializer<'de>>(d: D, path: String) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor { path })
    }
}

struct StrictVisitor {
    path: String,
}

/// Seeds a nested value with its path.
struct Seed(String);

impl<'de> de::DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_at(d, self.0)
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(Seed(format!("{}[{}]", self.path, v.len())))? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if m.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate field \"{path}\"")));
            }
            let v = map.next_value_seed(Seed(path))?;
            m.insert(key, v);
        }
        Ok(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        assert_eq!(
            parse_json(r#"{"a": {"b": [1, {"c": 1, "c": 2}]}}"#).unwrap_err(),
            "duplicate field \"a.b[1].c\" at line 1 column 28"
        );
        assert_eq!(parse_json(r#"{"a": 1, "b": [1.5, null, "x"]}"#).unwrap(), serde_json::json!({"a": 1, "b": [1.5, null, "x"]}));
        assert!(parse_json("{} x").is_err());
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("accelgen-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.json");
        std::fs::write(&f, "0123456789").unwrap();
        assert_eq!(read_limited(&f, 10, "case file").unwrap().len(), 10);
        assert_eq!(
            read_limited(&f, 9, "case file").unwrap_err(),
            format!("{}: 10 bytes is larger than the 9 bytes allowed for a case file", f.display())
        );
        assert_eq!(
            read_limited(&dir, 9, "case file").unwrap_err(),
            format!("{}: is a folder; a case file must be a regular file", dir.display())
        );
        let dev = Path::new("/dev/zero");
        assert!(read_limited(dev, 9, "case file").unwrap_err().contains("not a regular file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
