//! Values: what a statement takes and gives, on either engine. A *value*
//! is a number, a text or nothing; a [`Param`] turns Rust values into one,
//! a [`FromValue`] reads one back, checked (a column of another type is an
//! error naming it, never a panic).

use super::DbError;

/// One parameter or result column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A parameter of a statement: a number, a string, a flag, or nothing.
pub(crate) trait Param {
    fn value(&self) -> Value;
}

impl Param for i64 {
    fn value(&self) -> Value {
        Value::Int(*self)
    }
}
impl Param for bool {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl Param for str {
    fn value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl Param for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl Param for &str {
    fn value(&self) -> Value {
        Value::Text((*self).to_owned())
    }
}
impl Param for i32 {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl Param for u32 {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl Param for usize {
    fn value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}
impl Param for &String {
    fn value(&self) -> Value {
        Value::Text((*self).clone())
    }
}
impl<T: Param + ?Sized> Param for &&T {
    fn value(&self) -> Value {
        (**self).value()
    }
}

/// `params![a, b]`: the parameters of a statement, in placeholder order.
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::db::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::db::Param),+] as &[&dyn $crate::store::db::Param] };
}
pub(crate) use params;

/// One result row.
#[derive(Debug)]
pub(crate) struct Row(Vec<Value>);

/// A column's value as a Rust type.
pub(crate) trait FromValue: Sized {
    const NAME: &'static str;
    fn from_value(v: &Value) -> Option<Self>;
}
impl FromValue for i64 {
    const NAME: &'static str = "an integer";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}
impl FromValue for u32 {
    const NAME: &'static str = "a count";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|n| u32::try_from(n).ok())
    }
}
impl FromValue for usize {
    const NAME: &'static str = "a count";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|n| usize::try_from(n).ok())
    }
}
impl FromValue for bool {
    const NAME: &'static str = "a flag";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|n| n != 0)
    }
}
impl FromValue for String {
    const NAME: &'static str = "text";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    const NAME: &'static str = T::NAME;
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Row {
    pub(super) fn new(values: Vec<Value>) -> Row {
        Row(values)
    }

    /// Every column, in order.
    pub(crate) fn into_values(self) -> Vec<Value> {
        self.0
    }

    /// Column `i` as a `T`; a column of another type is an error, never a panic.
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> Result<T, DbError> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| DbError::Type {
            column: i,
            expected: T::NAME,
            found: format!("{v:?}"),
        })
    }
}
