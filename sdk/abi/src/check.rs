//! The rules an ABI must meet before anything reads values through it: every type it names
//! parses, no type the contract defines contains itself, and no type nests deeper than
//! [`MAX_DEPTH`] once the contract's own types are expanded. A decoder walking the types of
//! an ABI that passed always ends, however hostile the contract that carried it.

use std::collections::BTreeMap;

use crate::ty::{MAX_DEPTH, Ty};
use crate::{ContractAbi, Fields, TypeDef};

/// Why an ABI is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbiError(pub String);

impl core::fmt::Display for AbiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AbiError {}

fn parse(what: &str, text: &str) -> Result<Ty, AbiError> {
    Ty::parse(text).map_err(|e| AbiError(format!("{what}: {e}")))
}

fn field_types(fields: &Fields) -> Vec<&str> {
    match fields {
        Fields::Unit => Vec::new(),
        Fields::Named(named) => named.iter().map(|f| f.ty.as_str()).collect(),
        Fields::Unnamed(types) => types.iter().map(String::as_str).collect(),
    }
}

/// The types a definition's fields have (every variant's, for an enum).
fn def_types(def: &TypeDef) -> Vec<&str> {
    match def {
        TypeDef::Struct { fields, .. } => field_types(fields),
        TypeDef::Enum { variants, .. } => variants
            .iter()
            .flat_map(|v| field_types(&v.fields))
            .collect(),
    }
}

enum Mark {
    Visiting,
    /// How deep the definition's fields nest.
    Done(usize),
}

struct Walk<'a> {
    defs: BTreeMap<&'a str, Vec<Ty>>,
    marks: BTreeMap<&'a str, Mark>,
    /// The definitions being expanded, outermost first: the cycle, when one closes.
    path: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    /// How many levels `ty` nests, with the contract's types expanded.
    fn depth(&mut self, ty: &Ty) -> Result<usize, AbiError> {
        Ok(1 + match ty {
            Ty::Vec(t) | Ty::Array(t, _) | Ty::Option(t) | Ty::Set(t) => self.depth(t)?,
            Ty::Map(k, v) => self.depth(k)?.max(self.depth(v)?),
            Ty::Tuple(items) => {
                let mut deepest = 0;
                for t in items {
                    deepest = deepest.max(self.depth(t)?);
                }
                deepest
            }
            Ty::Named(name) => self.def_depth(name)?,
            _ => 0,
        })
    }

    fn def_depth(&mut self, name: &str) -> Result<usize, AbiError> {
        // A name the contract does not define is a leaf: reading a value of it fails plainly.
        let Some((&key, fields)) = self.defs.get_key_value(name) else {
            return Ok(0);
        };
        match self.marks.get(key) {
            Some(Mark::Done(depth)) => return Ok(*depth),
            Some(Mark::Visiting) => {
                let from = self.path.iter().position(|n| *n == key).unwrap_or(0);
                let mut cycle: Vec<&str> = self.path[from..].to_vec();
                cycle.push(key);
                return Err(AbiError(format!(
                    "type `{key}` contains itself ({}): a value of it would never end",
                    cycle.join(" → ")
                )));
            }
            None => {}
        }
        let fields = fields.clone();
        self.marks.insert(key, Mark::Visiting);
        self.path.push(key);
        let mut deepest = 0;
        for ty in &fields {
            deepest = deepest.max(self.depth(ty)?);
        }
        self.path.pop();
        self.marks.insert(key, Mark::Done(deepest));
        Ok(deepest)
    }

    fn bounded(&mut self, what: &str, ty: &Ty) -> Result<(), AbiError> {
        let depth = self.depth(ty)?;
        if depth > MAX_DEPTH {
            return Err(AbiError(format!(
                "{what} nests {depth} levels deep with the contract's types expanded; the limit is {MAX_DEPTH}"
            )));
        }
        Ok(())
    }
}

/// Checks `abi` against the rules above.
pub fn check(abi: &ContractAbi) -> Result<(), AbiError> {
    let mut defs = BTreeMap::new();
    for def in &abi.types {
        let name = def.name();
        let types = def_types(def)
            .into_iter()
            .map(|t| parse(&format!("a field of type `{name}`"), t))
            .collect::<Result<Vec<_>, _>>()?;
        defs.insert(name, types);
    }
    let mut walk = Walk {
        defs,
        marks: BTreeMap::new(),
        path: Vec::new(),
    };
    for def in &abi.types {
        let what = format!("type `{}`", def.name());
        walk.bounded(&what, &Ty::Named(def.name().to_string()))?;
    }
    for method in &abi.methods {
        for arg in &method.args {
            let what = format!("argument `{}` of method `{}`", arg.name, method.name);
            let ty = parse(&what, &arg.ty)?;
            walk.bounded(&what, &ty)?;
        }
        let what = format!("the result of method `{}`", method.name);
        let ty = parse(&what, &method.returns)?;
        walk.bounded(&what, &ty)?;
    }
    for event in &abi.events {
        let what = format!("event `{}`", event.name);
        let ty = parse(&what, &event.ty)?;
        walk.bounded(&what, &ty)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventDef, Field, Method, MethodKind};

    fn abi(types: Vec<TypeDef>, returns: &str) -> ContractAbi {
        ContractAbi {
            abi_version: crate::ABI_VERSION.into(),
            methods: vec![Method {
                name: "get".into(),
                kind: MethodKind::View,
                args: vec![],
                returns: returns.into(),
            }],
            types,
            events: vec![EventDef {
                name: "e".into(),
                ty: "u8".into(),
            }],
            ..ContractAbi::default()
        }
    }

    fn point(name: &str, field_ty: &str) -> TypeDef {
        TypeDef::Struct {
            name: name.into(),
            fields: Fields::Named(vec![Field {
                name: "next".into(),
                ty: field_ty.into(),
            }]),
        }
    }

    #[test]
    fn a_type_that_contains_itself_is_refused_with_its_cycle() {
        let direct = abi(vec![point("A", "A")], "A");
        assert_eq!(
            check(&direct).unwrap_err().0,
            "type `A` contains itself (A → A): a value of it would never end"
        );
        // Through another type and a Vec: still a cycle a hostile decoder input can drive.
        let indirect = abi(vec![point("A", "Vec<B>"), point("B", "Option<A>")], "u8");
        let e = check(&indirect).unwrap_err().0;
        assert!(e.contains("A → B → A"), "{e}");
    }

    #[test]
    fn nesting_is_bounded_through_named_types() {
        // 20 types, each a Vec of the next: fine alone, too deep expanded.
        let chain: Vec<TypeDef> = (0..20)
            .map(|i| point(&format!("T{i}"), &format!("Vec<T{}>", i + 1)))
            .collect();
        let e = check(&abi(chain, "T0")).unwrap_err().0;
        assert!(e.contains("the limit is 32"), "{e}");
        let shallow = abi(vec![point("A", "Vec<Option<u8>>")], "Vec<A>");
        assert_eq!(check(&shallow), Ok(()));
        // A name the contract does not define is no cycle.
        assert_eq!(check(&abi(vec![], "Missing")), Ok(()));
    }
}
