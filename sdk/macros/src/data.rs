//! `#[bot_sdk::data]`, `#[bot_sdk::event]` and `#[bot_sdk::error]`: the types, events and error
//! codes a contract exposes, described in its ABI.

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Item, Lit};

use crate::{abi_record, abi_type};

fn fields(fields: &syn::Fields) -> syn::Result<bot_abi::Fields> {
    Ok(match fields {
        syn::Fields::Unit => bot_abi::Fields::Unit,
        syn::Fields::Named(named) => bot_abi::Fields::Named(
            named
                .named
                .iter()
                .map(|f| {
                    Ok(bot_abi::Field {
                        name: f
                            .ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        ty: abi_type(&f.ty)?,
                    })
                })
                .collect::<syn::Result<_>>()?,
        ),
        syn::Fields::Unnamed(unnamed) => bot_abi::Fields::Unnamed(
            unnamed
                .unnamed
                .iter()
                .map(|f| abi_type(&f.ty))
                .collect::<syn::Result<_>>()?,
        ),
    })
}

fn no_generics(generics: &syn::Generics, what: &str) -> syn::Result<()> {
    if generics.params.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new(
            generics.span(),
            format!("{what} cannot be generic: the ABI describes concrete types"),
        ))
    }
}

/// The ABI description of a struct or enum, refusing what the ABI cannot describe.
pub(crate) fn type_def(item: &Item, what: &str) -> syn::Result<bot_abi::TypeDef> {
    match item {
        Item::Struct(s) => {
            no_generics(&s.generics, what)?;
            Ok(bot_abi::TypeDef::Struct {
                name: s.ident.to_string(),
                fields: fields(&s.fields)?,
            })
        }
        Item::Enum(e) => {
            no_generics(&e.generics, what)?;
            if let Some(v) = e.variants.iter().find(|v| v.discriminant.is_some()) {
                return Err(syn::Error::new(
                    v.span(),
                    "borsh encodes enum variants by position: remove the explicit discriminant",
                ));
            }
            if e.variants.len() > 256 {
                return Err(syn::Error::new(
                    e.span(),
                    "an ABI enum has at most 256 variants",
                ));
            }
            Ok(bot_abi::TypeDef::Enum {
                name: e.ident.to_string(),
                variants: e
                    .variants
                    .iter()
                    .map(|v| {
                        Ok(bot_abi::Variant {
                            name: v.ident.to_string(),
                            fields: fields(&v.fields)?,
                        })
                    })
                    .collect::<syn::Result<_>>()?,
            })
        }
        other => Err(syn::Error::new(
            other.span(),
            format!("{what} goes on a struct or an enum"),
        )),
    }
}

fn borsh_derives() -> Tokens {
    quote! {
        #[derive(::bot_sdk::borsh::BorshSerialize, ::bot_sdk::borsh::BorshDeserialize)]
        #[borsh(crate = "::bot_sdk::borsh")]
    }
}

fn no_args(attr: &Tokens, what: &str) -> syn::Result<()> {
    if attr.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new(
            attr.span(),
            format!("`{what}` takes no arguments"),
        ))
    }
}

pub(crate) fn data(attr: Tokens, item: Item) -> syn::Result<Tokens> {
    no_args(&attr, "#[bot_sdk::data]")?;
    let def = type_def(&item, "`#[bot_sdk::data]`")?;
    let derives = borsh_derives();
    let record = abi_record(&bot_abi::Record::Type(def));
    Ok(quote! {
        #derives
        #item
        #record
    })
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `name = "..."`, the one argument `#[bot_sdk::event]` takes.
fn event_name(attr: Tokens) -> syn::Result<Option<String>> {
    if attr.is_empty() {
        return Ok(None);
    }
    let meta: syn::MetaNameValue = syn::parse2(attr.clone())
        .map_err(|_| syn::Error::new(attr.span(), "expected `name = \"event_name\"`"))?;
    match (&meta.path.is_ident("name"), &meta.value) {
        (
            true,
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }),
        ) if !s.value().is_empty() && s.value().len() <= 64 => Ok(Some(s.value())),
        (true, _) => Err(syn::Error::new(
            meta.value.span(),
            "an event name is a string of 1 to 64 bytes",
        )),
        _ => Err(syn::Error::new(
            meta.path.span(),
            "the only argument is `name = \"...\"`",
        )),
    }
}

pub(crate) fn event(attr: Tokens, item: Item) -> syn::Result<Tokens> {
    let name = event_name(attr)?;
    let Item::Struct(s) = &item else {
        return Err(syn::Error::new(
            item.span(),
            "`#[bot_sdk::event]` goes on a struct: the event's payload",
        ));
    };
    let def = type_def(&item, "an event")?;
    let ident = &s.ident;
    let name = name.unwrap_or_else(|| snake_case(&ident.to_string()));
    let derives = borsh_derives();
    let type_record = abi_record(&bot_abi::Record::Type(def));
    let event_record = abi_record(&bot_abi::Record::Event(bot_abi::EventDef {
        name: name.clone(),
        ty: ident.to_string(),
    }));
    Ok(quote! {
        #derives
        #item
        #type_record
        #event_record
        impl ::bot_sdk::events::Event for #ident {
            const NAME: &'static str = #name;
        }
    })
}

fn doc_text(attrs: &[syn::Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

pub(crate) fn error(attr: Tokens, item: Item) -> syn::Result<Tokens> {
    no_args(&attr, "#[bot_sdk::error]")?;
    let Item::Enum(e) = &item else {
        return Err(syn::Error::new(
            item.span(),
            "`#[bot_sdk::error]` goes on an enum of the contract's errors",
        ));
    };
    no_generics(&e.generics, "an error enum")?;
    let mut next = FIRST_CUSTOM;
    let mut codes = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            return Err(syn::Error::new(
                v.fields.span(),
                "error variants carry no fields: the code and the doc comment are the error",
            ));
        }
        let code = match &v.discriminant {
            None => next,
            Some((
                _,
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }),
            )) => i.base10_parse::<u32>()?,
            Some((_, other)) => {
                return Err(syn::Error::new(
                    other.span(),
                    "an error code is an integer literal",
                ));
            }
        };
        if code < FIRST_CUSTOM {
            return Err(syn::Error::new(
                v.ident.span(),
                format!(
                    "codes below {} are the SDK's own: start the contract's at {0} or above",
                    FIRST_CUSTOM
                ),
            ));
        }
        if let Some((_, other, _)) = codes.iter().find(|(c, _, _)| *c == code) {
            return Err(syn::Error::new(
                v.ident.span(),
                format!("code {code} is already used by `{other}`"),
            ));
        }
        let message = doc_text(&v.attrs)
            .unwrap_or_else(|| snake_case(&v.ident.to_string()).replace('_', " "));
        codes.push((code, v.ident.clone(), message));
        next = code.saturating_add(1);
    }
    let ident = &e.ident;
    let records: Vec<Tokens> = codes
        .iter()
        .map(|(code, name, message)| {
            abi_record(&bot_abi::Record::Error(bot_abi::ErrorDef {
                code: *code,
                name: name.to_string(),
                message: message.clone(),
            }))
        })
        .collect();
    let code_arms = codes
        .iter()
        .map(|(code, name, _)| quote!(#ident::#name => #code));
    let message_arms = codes
        .iter()
        .map(|(_, name, message)| quote!(#ident::#name => #message));
    // The enum keeps the user's discriminants only if they wrote them; codes live in `code()`.
    Ok(quote! {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #item
        #(#records)*
        impl #ident {
            /// The error code callers and tools see.
            pub const fn code(&self) -> u32 {
                match self { #(#code_arms),* }
            }
            /// The message (the variant's doc comment).
            pub const fn message(&self) -> &'static str {
                match self { #(#message_arms),* }
            }
        }
        impl ::core::convert::From<#ident> for ::bot_sdk::ContractError {
            fn from(e: #ident) -> ::bot_sdk::ContractError {
                ::bot_sdk::ContractError::new(e.code(), e.message())
            }
        }
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.message())
            }
        }
    })
}

/// `ContractError::FIRST_CUSTOM`: the SDK's codes are below it.
const FIRST_CUSTOM: u32 = 100;
