//! Turn an annotated impl block into a bot contract: `#[bot_sdk::contract]`.
//!
//! On a struct, it makes the struct the contract's state (borsh-persisted under one key).
//! On that struct's impl block, it turns the public methods into the contract's entry points:
//! `#[init]` constructors returning `Self`, methods taking `&mut self` that may write, and
//! `#[view]` methods taking `&self`, which the engine runs read-only. Arguments and results are
//! borsh; a method returning `Result<T, E>` fails with `E` converted into a `ContractError`.
//! The method list is embedded in the wasm's `bot:abi` section for the engine and tools.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, ItemStruct, Pat, ReturnType, Type};

#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = Tokens::from(attr);
        return syn::Error::new(attr.span(), "`#[bot_sdk::contract]` takes no arguments")
            .to_compile_error()
            .into();
    }
    let expanded = match syn::parse_macro_input!(item as Item) {
        Item::Struct(s) => state_struct(s),
        Item::Impl(i) => contract_impl(i),
        other => Err(syn::Error::new(
            other.span(),
            "`#[bot_sdk::contract]` goes on the contract's state struct and on its impl block",
        )),
    };
    expanded.unwrap_or_else(|e| e.to_compile_error()).into()
}

fn state_struct(s: ItemStruct) -> syn::Result<Tokens> {
    if !s.generics.params.is_empty() {
        return Err(syn::Error::new(
            s.generics.span(),
            "a contract's state struct cannot be generic",
        ));
    }
    Ok(quote! {
        #[derive(::bot_sdk::borsh::BorshSerialize, ::bot_sdk::borsh::BorshDeserialize)]
        #[borsh(crate = "::bot_sdk::borsh")]
        #s
    })
}

/// What a method's signature says.
struct Entry {
    name: syn::Ident,
    kind: bot_abi::MethodKind,
    args: Vec<(syn::Ident, Type)>,
    returns: Option<Type>,
    /// The return type is `Result<..>`: `Err` becomes the contract's error.
    fallible: bool,
}

fn type_text(ty: &Type) -> String {
    quote!(#ty)
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn is_result(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Result"))
}

/// The `T` of `Result<T, E>`, or the type itself.
fn ok_type(ty: &Type) -> Type {
    if let Type::Path(p) = ty
        && let Some(last) = p.path.segments.last()
        && last.ident == "Result"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(t)) = args.args.first()
    {
        return t.clone();
    }
    ty.clone()
}

fn take_marker(f: &mut ImplItemFn, name: &str) -> Option<Span> {
    let pos = f.attrs.iter().position(|a| a.path().is_ident(name))?;
    Some(f.attrs.remove(pos).span())
}

fn entry(f: &mut ImplItemFn, self_ty: &Type) -> syn::Result<Option<Entry>> {
    let init = take_marker(f, "init");
    let view = take_marker(f, "view");
    if !matches!(f.vis, syn::Visibility::Public(_)) {
        if let Some(span) = init.or(view) {
            return Err(syn::Error::new(span, "entry points must be `pub`"));
        }
        return Ok(None);
    }
    if let (Some(_), Some(span)) = (init, view) {
        return Err(syn::Error::new(
            span,
            "a method cannot be both `#[init]` and `#[view]`",
        ));
    }
    if !f.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            f.sig.generics.span(),
            "entry points cannot be generic",
        ));
    }
    if let Some(asyncness) = f.sig.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            "entry points cannot be async",
        ));
    }
    let receiver = f
        .sig
        .receiver()
        .map(|r| (r.reference.is_some(), r.mutability.is_some()));
    let kind = match (init.is_some(), view.is_some(), receiver) {
        (true, _, None) => bot_abi::MethodKind::Init,
        (true, _, Some(_)) => {
            return Err(syn::Error::new(
                f.sig.span(),
                "an `#[init]` method takes no `self`: it returns the new state",
            ));
        }
        (_, true, Some((true, false))) => bot_abi::MethodKind::View,
        (_, true, _) => {
            return Err(syn::Error::new(
                f.sig.span(),
                "a `#[view]` method takes `&self`",
            ));
        }
        (false, false, Some((true, true))) => bot_abi::MethodKind::Call,
        (false, false, Some((true, false))) => {
            return Err(syn::Error::new(
                f.sig.span(),
                "a method taking `&self` must be marked `#[view]` (read-only); take `&mut self` to write",
            ));
        }
        (false, false, Some((false, _))) => {
            return Err(syn::Error::new(
                f.sig.span(),
                "entry points take `&self` or `&mut self`, not `self`",
            ));
        }
        (false, false, None) => {
            return Err(syn::Error::new(
                f.sig.span(),
                "a public method without `self` must be an `#[init]` constructor (or make it private)",
            ));
        }
    };
    let mut args = Vec::new();
    for input in &f.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let Pat::Ident(pat) = &*pt.pat else {
            return Err(syn::Error::new(
                pt.pat.span(),
                "entry point arguments must be plain names",
            ));
        };
        args.push((pat.ident.clone(), (*pt.ty).clone()));
    }
    let returns = match &f.sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    let fallible = returns.as_ref().is_some_and(is_result);
    if kind == bot_abi::MethodKind::Init {
        let ok = returns.as_ref().map(ok_type);
        let returns_self = ok.as_ref().is_some_and(|t| {
            matches!(t, Type::Path(p) if p.path.is_ident("Self"))
                || type_text(t) == type_text(self_ty)
        });
        if !returns_self {
            return Err(syn::Error::new(
                f.sig.output.span(),
                "an `#[init]` method returns `Self` (or `Result<Self, E>`)",
            ));
        }
    }
    Ok(Some(Entry {
        name: f.sig.ident.clone(),
        kind,
        args,
        returns,
        fallible,
    }))
}

fn abi_bytes(self_ty: &Type, entries: &[Entry]) -> Vec<u8> {
    let abi = bot_abi::ContractAbi {
        abi_version: bot_abi::ABI_VERSION.to_string(),
        sdk_version: env!("CARGO_PKG_VERSION").to_string(),
        contract: type_text(self_ty),
        methods: entries
            .iter()
            .map(|e| bot_abi::Method {
                name: e.name.to_string(),
                kind: e.kind,
                args: e
                    .args
                    .iter()
                    .map(|(n, t)| bot_abi::Arg {
                        name: n.to_string(),
                        ty: type_text(t),
                    })
                    .collect(),
                returns: match (&e.returns, e.kind) {
                    (_, bot_abi::MethodKind::Init) | (None, _) => "()".to_string(),
                    (Some(t), _) => type_text(&ok_type(t)),
                },
            })
            .collect(),
    };
    // Serializing plain strings and vectors into a Vec cannot fail.
    borsh::to_vec(&abi).unwrap_or_default()
}

fn dispatch_arm(self_ty: &Type, e: &Entry) -> Tokens {
    let name = &e.name;
    let method = name.to_string();
    let fields = e.args.iter().map(|(n, t)| quote!(#n: #t));
    let names: Vec<_> = e.args.iter().map(|(n, _)| n).collect();
    let args_ty = format_ident!("__BotArgs");
    let decode = quote! {
        #[derive(::bot_sdk::borsh::BorshDeserialize)]
        #[borsh(crate = "::bot_sdk::borsh")]
        struct #args_ty { #(#fields),* }
        let #args_ty { #(#names),* } = ::bot_sdk::args::<#args_ty>(&__bot_input)?;
    };
    let result = |call: Tokens| {
        if e.fallible {
            quote!(#call.map_err(::core::convert::Into::<::bot_sdk::ContractError>::into)?)
        } else {
            call
        }
    };
    match e.kind {
        bot_abi::MethodKind::Init => {
            let call = result(quote!(<#self_ty>::#name(#(#names),*)));
            quote! {
                #method => {
                    #decode
                    ::bot_sdk::state::require_uninitialized()?;
                    let __bot_state: #self_ty = #call;
                    ::bot_sdk::state::save(&__bot_state);
                    ::bot_sdk::ok(&())
                }
            }
        }
        bot_abi::MethodKind::Call => {
            let call = result(quote!(__bot_state.#name(#(#names),*)));
            quote! {
                #method => {
                    #decode
                    let mut __bot_state: #self_ty = ::bot_sdk::state::load()?;
                    let __bot_out = #call;
                    ::bot_sdk::state::save(&__bot_state);
                    ::bot_sdk::ok(&__bot_out)
                }
            }
        }
        bot_abi::MethodKind::View => {
            let call = result(quote!(__bot_state.#name(#(#names),*)));
            quote! {
                #method => {
                    #decode
                    let __bot_view = ::bot_sdk::__private::view_scope();
                    let __bot_state: #self_ty = ::bot_sdk::state::load()?;
                    let __bot_out = #call;
                    drop(__bot_view);
                    ::bot_sdk::ok(&__bot_out)
                }
            }
        }
    }
}

fn contract_impl(mut block: ItemImpl) -> syn::Result<Tokens> {
    if block.trait_.is_some() {
        return Err(syn::Error::new(
            block.span(),
            "`#[bot_sdk::contract]` goes on an inherent impl, not a trait impl",
        ));
    }
    let self_ty = (*block.self_ty).clone();
    let mut entries = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item {
            match entry(f, &self_ty) {
                Ok(Some(e)) => entries.push(e),
                Ok(None) => {}
                Err(e) => match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                },
            }
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    if !entries.iter().any(|e| e.kind == bot_abi::MethodKind::Init) {
        return Err(syn::Error::new(
            block.self_ty.span(),
            "a contract needs an `#[init]` method that returns its initial state",
        ));
    }
    let abi = abi_bytes(&self_ty, &entries);
    let len = abi.len();
    let arms = entries.iter().map(|e| dispatch_arm(&self_ty, e));
    let span = block.self_ty.span();
    let entry_ty = quote_spanned!(span=> __BotContractEntry);
    Ok(quote! {
        #block

        #[doc(hidden)]
        pub struct #entry_ty;

        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "bot:abi")]
        #[used]
        static __BOT_ABI: [u8; #len] = [#(#abi),*];

        impl ::bot_sdk::ContractState for #self_ty {
            type Entry = #entry_ty;
        }

        impl ::bot_sdk::Contract for #entry_ty {
            fn invoke(
                __bot_method: ::bot_sdk::__private::String,
                __bot_input: ::bot_sdk::__private::Vec<u8>,
            ) -> ::core::result::Result<::bot_sdk::__private::Vec<u8>, ::bot_sdk::ContractError> {
                ::bot_sdk::guard();
                match __bot_method.as_str() {
                    #(#arms)*
                    __bot_other => ::core::result::Result::Err(::bot_sdk::ContractError::unknown_method(__bot_other)),
                }
            }
        }

        ::bot_sdk::export!(#entry_ty);
    })
}
