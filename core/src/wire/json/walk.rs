//! Walking a text: parsing one value, and iterating the members of objects and the elements
//! of arrays (each step validated by the scanner).

use super::error::JsonError;
use super::scanner::Scanner;
use super::string::RawStr;
use super::value::{Kind, Value};

impl<'a> Value<'a> {
    /// Parses a whole text as one value (surrounding white space allowed).
    pub fn parse(text: &'a str) -> Result<Value<'a>, JsonError> {
        let mut sc = Scanner::new(text);
        let v = sc.value()?;
        sc.end()?;
        Ok(v)
    }

    /// The members, if it is an object.
    pub fn object(&self) -> Option<Members<'a>> {
        (self.kind == Kind::Object).then(|| Members::new(self.raw))
    }

    /// The elements, if it is an array.
    pub fn array(&self) -> Option<Elements<'a>> {
        (self.kind == Kind::Array).then(|| Elements::new(self.raw))
    }

    /// Looks up a member of an object by key.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.object()?
            .flatten()
            .find(|(k, _)| k.eq_str(key))
            .map(|(_, v)| v)
    }
}

/// Iterates the members of an already validated object.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    pub(super) sc: Scanner<'a>,
    pub(super) first: bool,
    pub(super) done: bool,
}

impl<'a> Members<'a> {
    fn new(raw: &'a str) -> Self {
        let mut sc = Scanner::new(raw);
        let done = sc.consume(b'{').is_err();
        Members {
            sc,
            first: true,
            done,
        }
    }

    fn step(&mut self) -> Result<Option<(RawStr<'a>, Value<'a>)>, JsonError> {
        match self.sc.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => self.sc.pos += 1,
            _ if self.first => {}
            _ => return Err(JsonError::UnexpectedByte { at: self.sc.pos }),
        }
        self.first = false;
        let key = self.sc.string()?;
        self.sc.consume(b':')?;
        Ok(Some((key, self.sc.value()?)))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(RawStr<'a>, Value<'a>), JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

/// Iterates the elements of an already validated array.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    pub(super) sc: Scanner<'a>,
    pub(super) first: bool,
    pub(super) done: bool,
}

impl<'a> Elements<'a> {
    fn new(raw: &'a str) -> Self {
        let mut sc = Scanner::new(raw);
        let done = sc.consume(b'[').is_err();
        Elements {
            sc,
            first: true,
            done,
        }
    }

    fn step(&mut self) -> Result<Option<Value<'a>>, JsonError> {
        match self.sc.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => self.sc.pos += 1,
            _ if self.first => {}
            _ => return Err(JsonError::UnexpectedByte { at: self.sc.pos }),
        }
        self.first = false;
        Ok(Some(self.sc.value()?))
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Value<'a>, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}
