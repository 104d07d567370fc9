//! Field access on parsed JSON with the field's path kept for error messages.

use serde_json::{Map, Value};

/// A JSON object being read, with the dotted path of where it sits in the file.
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
}

/// Joins a parent path and a field name: `""` + `input` → `input`, `layers[0]` + `weight` →
/// `layers[0].weight`.
pub(crate) fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// The message of a wrong field: `field "PATH": WHAT`.
pub(crate) fn field_err(path: &str, what: impl std::fmt::Display) -> String {
    format!("field \"{path}\": {what}")
}

/// A short description of a JSON value's kind for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &str) -> Result<Obj<'a>, String> {
        match v {
            Value::Object(map) => Ok(Obj { map, path: path.to_string() }),
            other => Err(if path.is_empty() {
                format!("the document must be a JSON object, got {}", kind(other))
            } else {
                field_err(path, format!("must be an object, got {}", kind(other)))
            }),
        }
    }

    pub fn path_of(&self, field: &str) -> String {
        join(&self.path, field)
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    pub fn req(&self, field: &str) -> Result<&'a Value, String> {
        self.get(field).ok_or_else(|| field_err(&self.path_of(field), "is missing"))
    }

    /// Rejects fields other than `allowed`, so a misspelt optional field is not silently ignored.
    pub fn only(&self, allowed: &[&str]) -> Result<(), String> {
        for k in self.map.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(field_err(
                    &self.path_of(k),
                    format!("is not a known field here (known: {})", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub fn str(&self, field: &str) -> Result<&'a str, String> {
        let v = self.req(field)?;
        v.as_str().ok_or_else(|| {
            field_err(&self.path_of(field), format!("must be a string, got {}", kind(v)))
        })
    }

    pub fn bool_or(&self, field: &str, default: bool) -> Result<bool, String> {
        match self.get(field) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| {
                field_err(&self.path_of(field), format!("must be true or false, got {}", kind(v)))
            }),
        }
    }

    /// An integer field within `lo..=hi`.
    pub fn int(&self, field: &str, lo: i64, hi: i64) -> Result<i64, String> {
        int_value(self.req(field)?, &self.path_of(field), lo, hi)
    }

    /// `[a, b]` of integers each within `lo..=hi`; a single integer `a` means `[a, a]`; absent
    /// means `default`.
    pub fn pair(
        &self,
        field: &str,
        lo: i64,
        hi: i64,
        default: Option<[usize; 2]>,
    ) -> Result<[usize; 2], String> {
        let path = self.path_of(field);
        let v = match (self.get(field), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => return Err(field_err(&path, "is missing")),
            (Some(v), _) => v,
        };
        if v.is_number() {
            let a = int_value(v, &path, lo, hi)? as usize;
            return Ok([a, a]);
        }
        let arr = v.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
            field_err(&path, format!("must be an integer or a pair [a, b], got {v}"))
        })?;
        let a = int_value(&arr[0], &format!("{path}[0]"), lo, hi)? as usize;
        let b = int_value(&arr[1], &format!("{path}[1]"), lo, hi)? as usize;
        Ok([a, b])
    }

    /// Padding: an integer, a pair `[ph, pw]` (both sides alike), or `[top, left, bottom,
    /// right]` (ONNX's `pads` order); returns `[top, left]` and `[bottom, right]` when they differ.
    pub fn pads(&self, field: &str, lo: i64, hi: i64) -> Result<([usize; 2], Option<[usize; 2]>), String> {
        let path = self.path_of(field);
        match self.get(field).and_then(|v| v.as_array()).filter(|a| a.len() == 4) {
            Some(arr) => {
                let mut p = [0usize; 4];
                for (i, v) in arr.iter().enumerate() {
                    p[i] = int_value(v, &format!("{path}[{i}]"), lo, hi)? as usize;
                }
                let (begin, end) = ([p[0], p[1]], [p[2], p[3]]);
                Ok((begin, (begin != end).then_some(end)))
            }
            None => self.pair(field, lo, hi, Some([0, 0])).map(|p| (p, None)).map_err(|e| {
                e.replace("must be an integer or a pair [a, b]", "must be an integer, a pair [a, b] or [top, left, bottom, right]")
            }),
        }
    }
}

pub(crate) fn int_value(v: &Value, path: &str, lo: i64, hi: i64) -> Result<i64, String> {
    let n = v
        .as_i64()
        .ok_or_else(|| field_err(path, format!("must be an integer in {lo}..={hi}, got {v}")))?;
    if n < lo || n > hi {
        return Err(field_err(path, format!("{n} is out of range: allowed {lo}..={hi}")));
    }
    Ok(n)
}
