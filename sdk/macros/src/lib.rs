//! The SDK's macros: `#[bot_sdk::contract]` turns a state struct and its impl block into a bot
//! contract; `#[bot_sdk::data]`, `#[bot_sdk::event]` and `#[bot_sdk::error]` describe the
//! types, events and error codes a contract exposes.
//!
//! On a struct, `contract` makes the struct the contract's state (borsh-persisted under one
//! key, with its layout version). On that struct's impl block, it turns the public methods into
//! the contract's entry points: `#[init]` constructors returning `Self`, methods taking
//! `&mut self` that may write, `#[view]` methods taking `&self`, which the engine runs
//! read-only, and a `#[migrate]` constructor that converts older state. Arguments and results
//! are borsh; a method returning `Result<T, E>` fails with `E` converted into a
//! `ContractError`. Every macro appends a record to the wasm's `bot:abi` section, which the
//! engine and tools read.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::Item;
use syn::spanned::Spanned;

mod contract;
mod data;

#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = Tokens::from(attr);
    let expanded = match syn::parse_macro_input!(item as Item) {
        Item::Struct(s) => contract::state_struct(attr, s),
        Item::Impl(i) if attr.is_empty() => contract::contract_impl(i),
        Item::Impl(_) => Err(syn::Error::new(
            attr.span(),
            "the impl block's `#[bot_sdk::contract]` takes no arguments (put `version = N` on the state struct)",
        )),
        other => Err(syn::Error::new(
            other.span(),
            "`#[bot_sdk::contract]` goes on the contract's state struct and on its impl block",
        )),
    };
    expanded.unwrap_or_else(|e| e.to_compile_error()).into()
}

/// A struct or enum that crosses the contract boundary (an argument, a result, a stored value):
/// derives borsh and describes the type in the ABI, so tools can read and write it as JSON.
#[proc_macro_attribute]
pub fn data(attr: TokenStream, item: TokenStream) -> TokenStream {
    data::data(Tokens::from(attr), syn::parse_macro_input!(item as Item))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// An event payload struct: `#[bot_sdk::event]` (named after the struct in snake_case) or
/// `#[bot_sdk::event(name = "...")]`. Emit it with `bot_sdk::events::Event::emit(&value)`.
#[proc_macro_attribute]
pub fn event(attr: TokenStream, item: TokenStream) -> TokenStream {
    data::event(Tokens::from(attr), syn::parse_macro_input!(item as Item))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// The contract's own error codes, as an enum of unit variants: codes count up from 100 (or
/// the discriminants you write, at least 100), messages are the variants' doc comments. It
/// converts into `ContractError`, so methods can return `Result<T, YourError>`, and derives
/// `Clone, Copy, Debug, PartialEq, Eq`.
#[proc_macro_attribute]
pub fn error(attr: TokenStream, item: TokenStream) -> TokenStream {
    data::error(Tokens::from(attr), syn::parse_macro_input!(item as Item))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// A static in the `bot:abi` custom section holding one borsh-encoded record; on wasm the
/// linker concatenates all of them into the section.
fn abi_record(record: &bot_abi::Record) -> Tokens {
    // Records hold strings, vectors and enums only: serializing into a Vec cannot fail.
    let bytes = borsh::to_vec(record).unwrap_or_default();
    let len = bytes.len();
    quote! {
        const _: () = {
            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "bot:abi")]
            #[used]
            static RECORD: [u8; #len] = [#(#bytes),*];
        };
    }
}

/// A type that crosses the contract boundary (argument, result, field of an ABI type), as the
/// ABI names it; a type the ABI cannot describe (floats, `usize`, references, other generics)
/// is a compile error on that type.
fn abi_type(ty: &syn::Type) -> syn::Result<String> {
    let text = type_text(ty);
    match bot_abi::ty::Ty::parse(&text) {
        Ok(_) => Ok(text),
        Err(e) => Err(syn::Error::new(ty.span(), e.to_string())),
    }
}

/// A type as written, without whitespace: how the ABI names types.
fn type_text(ty: &impl quote::ToTokens) -> String {
    quote!(#ty)
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}
