//! The types an ABI can name, read from the Rust type text the macros record.

use core::fmt;

/// A type as the ABI understands it: what its borsh encoding is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Unit,
    Bool,
    U8,
    U16,
    U32,
    U64,
    U128,
    I8,
    I16,
    I32,
    I64,
    I128,
    String,
    /// A 20-byte address (`bot_sdk::Address`).
    Address,
    Vec(Box<Ty>),
    Array(Box<Ty>, usize),
    Option(Box<Ty>),
    Tuple(Vec<Ty>),
    /// `BTreeMap` or `HashMap`: borsh writes the entries sorted by key.
    Map(Box<Ty>, Box<Ty>),
    /// `BTreeSet` or `HashSet`, sorted likewise.
    Set(Box<Ty>),
    /// A type the contract defines (`#[bot_sdk::data]`), by its last path segment.
    Named(String),
}

/// Why a type text is not one the ABI can describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    pub ty: String,
    pub detail: String,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "type `{}`: {}", self.ty, self.detail)
    }
}

impl std::error::Error for TypeError {}

/// How deeply a type may nest (`Vec<Option<(u8, Vec<..>)>>`), counting each generic, tuple,
/// array and named type it goes through: what tools recurse over when they read a value.
pub const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    text: &'a str,
    rest: &'a str,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, detail: impl Into<String>) -> TypeError {
        TypeError {
            ty: self.text.to_string(),
            detail: detail.into(),
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.rest = self.rest.trim_start();
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), TypeError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{token}` at `{}`", self.rest)))
        }
    }

    /// A path such as `std::collections::BTreeMap`, returned as its last segment.
    fn path(&mut self) -> Result<&'a str, TypeError> {
        self.rest = self.rest.trim_start();
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(self.rest.len());
        let (path, rest) = self.rest.split_at(end);
        if path.is_empty() {
            return Err(self.error(format!("expected a type at `{}`", self.rest)));
        }
        self.rest = rest;
        Ok(path.rsplit("::").next().unwrap_or(path))
    }

    fn generics(&mut self, n: usize, name: &str) -> Result<Vec<Ty>, TypeError> {
        self.expect("<")?;
        let mut args = Vec::new();
        loop {
            args.push(self.ty()?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect(">")?;
        if args.len() != n {
            return Err(self.error(format!("`{name}` takes {n} type argument(s)")));
        }
        Ok(args)
    }

    fn ty(&mut self) -> Result<Ty, TypeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("the type nests more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let ty = self.ty_inner();
        self.depth -= 1;
        ty
    }

    fn ty_inner(&mut self) -> Result<Ty, TypeError> {
        if self.eat("(") {
            let mut items = Vec::new();
            while !self.eat(")") {
                items.push(self.ty()?);
                if !self.eat(",") {
                    self.expect(")")?;
                    break;
                }
            }
            return Ok(if items.is_empty() {
                Ty::Unit
            } else {
                Ty::Tuple(items)
            });
        }
        if self.eat("[") {
            let item = self.ty()?;
            self.expect(";")?;
            self.rest = self.rest.trim_start();
            let end = self
                .rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(self.rest.len());
            let len = self.rest[..end]
                .parse()
                .map_err(|_| self.error("an array length must be a number literal"))?;
            self.rest = &self.rest[end..];
            self.expect("]")?;
            return Ok(Ty::Array(Box::new(item), len));
        }
        if self.rest.trim_start().starts_with('&') {
            return Err(
                self.error("references cannot cross the contract boundary: use an owned type")
            );
        }
        let name = self.path()?;
        let one = |p: &mut Self| -> Result<Box<Ty>, TypeError> {
            Ok(Box::new(p.generics(1, name)?.remove(0)))
        };
        Ok(match name {
            "bool" => Ty::Bool,
            "u8" => Ty::U8,
            "u16" => Ty::U16,
            "u32" => Ty::U32,
            "u64" => Ty::U64,
            "u128" => Ty::U128,
            "i8" => Ty::I8,
            "i16" => Ty::I16,
            "i32" => Ty::I32,
            "i64" => Ty::I64,
            "i128" => Ty::I128,
            "String" => Ty::String,
            "Address" => Ty::Address,
            "f32" | "f64" => {
                return Err(
                    self.error("floats are not part of the ABI: use integers (e.g. milli-units)")
                );
            }
            "usize" | "isize" => {
                return Err(self.error("sizes differ between wasm32 and hosts: use u32 or u64"));
            }
            "Vec" | "VecDeque" => Ty::Vec(one(self)?),
            "Option" => Ty::Option(one(self)?),
            "Box" => *one(self)?,
            "BTreeSet" | "HashSet" => Ty::Set(one(self)?),
            "BTreeMap" | "HashMap" => {
                let mut kv = self.generics(2, name)?;
                let v = kv.remove(1);
                Ty::Map(Box::new(kv.remove(0)), Box::new(v))
            }
            other if self.rest.trim_start().starts_with('<') => {
                return Err(self.error(format!("generic type `{other}` is not part of the ABI")));
            }
            other => Ty::Named(other.to_string()),
        })
    }
}

impl Ty {
    pub fn parse(text: &str) -> Result<Ty, TypeError> {
        let mut p = Parser {
            text,
            rest: text,
            depth: 0,
        };
        let ty = p.ty()?;
        if !p.rest.trim().is_empty() {
            return Err(p.error(format!("unexpected `{}`", p.rest.trim())));
        }
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_macros_record() {
        use Ty::*;
        let b = Box::new;
        assert_eq!(Ty::parse("()"), Ok(Unit));
        assert_eq!(Ty::parse("Vec<u8>"), Ok(Vec(b(U8))));
        assert_eq!(Ty::parse("[u8;32]"), Ok(Array(b(U8), 32)));
        assert_eq!(Ty::parse("(u64,String)"), Ok(Tuple(vec![U64, String])));
        assert_eq!(Ty::parse("(u64,)"), Ok(Tuple(vec![U64])));
        assert_eq!(
            Ty::parse("Option<std::collections::BTreeMap<String,Vec<bot_sdk::Address>>>"),
            Ok(Option(b(Map(b(String), b(Vec(b(Address)))))))
        );
        assert_eq!(Ty::parse("Reading"), Ok(Named("Reading".into())));
        assert_eq!(Ty::parse("Box<i32>"), Ok(I32));
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed_into() {
        let deep = |n: usize| format!("{}u8{}", "Vec<".repeat(n), ">".repeat(n));
        assert!(Ty::parse(&deep(MAX_DEPTH - 1)).is_ok());
        let e = Ty::parse(&deep(MAX_DEPTH)).unwrap_err();
        assert!(e.to_string().contains("nests more than 32"), "{e}");
        // A type text a hostile section could carry: a million levels, refused at once.
        assert!(Ty::parse(&"(".repeat(1 << 20)).is_err());
    }

    #[test]
    fn refuses_what_borsh_cannot_carry_portably() {
        for (text, says) in [
            ("f64", "floats"),
            ("usize", "u32 or u64"),
            ("&str", "owned"),
            ("Vec<u8", "expected `>`"),
            ("Foo<u8>", "generic"),
            ("u8 u8", "unexpected"),
        ] {
            let e = Ty::parse(text).unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
    }
}
