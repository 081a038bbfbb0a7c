//! `#[bot_sdk::contract]` on the state struct and on its impl block.

use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, ItemStruct, Pat, ReturnType, Type};

use crate::{abi_record, abi_type, type_text};

/// `version = N`, the one argument the state struct's `#[bot_sdk::contract]` takes.
fn state_version(attr: Tokens) -> syn::Result<u32> {
    if attr.is_empty() {
        return Ok(1);
    }
    let meta: syn::MetaNameValue = syn::parse2(attr.clone())
        .map_err(|_| syn::Error::new(attr.span(), "expected `version = N`"))?;
    if !meta.path.is_ident("version") {
        return Err(syn::Error::new(
            meta.path.span(),
            "the state struct's only argument is `version = N`",
        ));
    }
    match &meta.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => match i.base10_parse::<u32>()? {
            0 => Err(syn::Error::new(i.span(), "state versions start at 1")),
            v => Ok(v),
        },
        other => Err(syn::Error::new(
            other.span(),
            "a state version is an integer literal",
        )),
    }
}

pub(crate) fn state_struct(attr: Tokens, s: ItemStruct) -> syn::Result<Tokens> {
    let version = state_version(attr)?;
    if !s.generics.params.is_empty() {
        return Err(syn::Error::new(
            s.generics.span(),
            "a contract's state struct cannot be generic",
        ));
    }
    let item = syn::Item::Struct(s.clone());
    let def = crate::data::type_def(&item, "a contract's state struct")?;
    let ident = &s.ident;
    let state = abi_record(&bot_abi::Record::State {
        name: ident.to_string(),
        version,
    });
    let ty = abi_record(&bot_abi::Record::Type(def));
    Ok(quote! {
        #[derive(::bot_sdk::borsh::BorshSerialize, ::bot_sdk::borsh::BorshDeserialize)]
        #[borsh(crate = "::bot_sdk::borsh")]
        #s
        #state
        #ty
        impl ::bot_sdk::state::Versioned for #ident {
            const VERSION: u32 = #version;
        }
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
    /// For `#[migrate]`: the first parameter, the state as an older version stored it.
    old_state: Option<(syn::Ident, Type)>,
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
    Some(f.attrs.remove(pos).path().span())
}

fn entry(f: &mut ImplItemFn, self_ty: &Type) -> syn::Result<Option<Entry>> {
    let init = take_marker(f, "init");
    let view = take_marker(f, "view");
    let migrate = take_marker(f, "migrate");
    if !matches!(f.vis, syn::Visibility::Public(_)) {
        if let Some(span) = init.or(view).or(migrate) {
            return Err(syn::Error::new(span, "entry points must be `pub`"));
        }
        return Ok(None);
    }
    let markers = [init, view, migrate];
    if markers.iter().flatten().count() > 1 {
        let span = markers
            .iter()
            .flatten()
            .nth(1)
            .copied()
            .unwrap_or_else(Span::call_site);
        return Err(syn::Error::new(
            span,
            "a method is at most one of `#[init]`, `#[view]` and `#[migrate]`",
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
    // Errors about `self` point at the receiver, others at the method's name.
    let self_span = f
        .sig
        .receiver()
        .map_or_else(|| f.sig.ident.span(), |r| r.self_token.span);
    let kind = match (
        init.is_some() || migrate.is_some(),
        view.is_some(),
        receiver,
    ) {
        (true, _, None) if migrate.is_some() => bot_abi::MethodKind::Migrate,
        (true, _, None) => bot_abi::MethodKind::Init,
        (true, _, Some(_)) if migrate.is_some() => {
            return Err(syn::Error::new(
                self_span,
                "a `#[migrate]` method takes no `self`: it takes the old state and returns the new",
            ));
        }
        (true, _, Some(_)) => {
            return Err(syn::Error::new(
                self_span,
                "an `#[init]` method takes no `self`: it returns the new state",
            ));
        }
        (_, true, Some((true, false))) => bot_abi::MethodKind::View,
        (_, true, _) => {
            return Err(syn::Error::new(
                self_span,
                "a `#[view]` method takes `&self`",
            ));
        }
        (false, false, Some((true, true))) => bot_abi::MethodKind::Call,
        (false, false, Some((true, false))) => {
            return Err(syn::Error::new(
                self_span,
                "a method taking `&self` must be marked `#[view]` (read-only); take `&mut self` to write",
            ));
        }
        (false, false, Some((false, _))) => {
            return Err(syn::Error::new(
                self_span,
                "entry points take `&self` or `&mut self`, not `self`",
            ));
        }
        (false, false, None) => {
            return Err(syn::Error::new(
                self_span,
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
        abi_type(&pt.ty)?;
        args.push((pat.ident.clone(), (*pt.ty).clone()));
    }
    let returns = match &f.sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    let fallible = returns.as_ref().is_some_and(is_result);
    if let (Some(t), bot_abi::MethodKind::Call | bot_abi::MethodKind::View) = (&returns, kind) {
        abi_type(&ok_type(t))?;
    }
    let old_state = if kind == bot_abi::MethodKind::Migrate {
        if args.is_empty() {
            return Err(syn::Error::new(
                f.sig.ident.span(),
                "a `#[migrate]` method's first parameter is the old state, e.g. `old: CounterV1`",
            ));
        }
        Some(args.remove(0))
    } else {
        None
    };
    if matches!(
        kind,
        bot_abi::MethodKind::Init | bot_abi::MethodKind::Migrate
    ) {
        let ok = returns.as_ref().map(ok_type);
        let returns_self = ok.as_ref().is_some_and(|t| {
            matches!(t, Type::Path(p) if p.path.is_ident("Self"))
                || type_text(t) == type_text(self_ty)
        });
        if !returns_self {
            let span = match &f.sig.output {
                ReturnType::Type(_, ty) => ty.span(),
                ReturnType::Default => f.sig.ident.span(),
            };
            return Err(syn::Error::new(
                span,
                "`#[init]` and `#[migrate]` methods return `Self` (or `Result<Self, E>`)",
            ));
        }
    }
    Ok(Some(Entry {
        name: f.sig.ident.clone(),
        kind,
        args,
        returns,
        fallible,
        old_state,
    }))
}

fn abi_record_tokens(self_ty: &Type, entries: &[Entry]) -> Tokens {
    let abi = bot_abi::ContractAbi {
        abi_version: bot_abi::ABI_VERSION.to_string(),
        sdk_version: env!("CARGO_PKG_VERSION").to_string(),
        contract: type_text(self_ty),
        // Filled from the state struct's own record.
        state_version: 0,
        methods: entries
            .iter()
            .map(|e| bot_abi::Method {
                name: e.name.to_string(),
                kind: e.kind,
                args: e
                    .args
                    .iter()
                    .map(|(n, t)| bot_abi::Field {
                        name: n.to_string(),
                        ty: type_text(t),
                    })
                    .collect(),
                returns: match (&e.returns, e.kind) {
                    (_, bot_abi::MethodKind::Init | bot_abi::MethodKind::Migrate) | (None, _) => {
                        "()".to_string()
                    }
                    (Some(t), _) => type_text(&ok_type(t)),
                },
            })
            .collect(),
        ..bot_abi::ContractAbi::default()
    };
    abi_record(&bot_abi::Record::Contract(abi))
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
        bot_abi::MethodKind::Migrate => {
            let (old, old_ty) = e
                .old_state
                .as_ref()
                .expect("migrate entries have an old state");
            let call = result(quote!(<#self_ty>::#name(#old, #(#names),*)));
            quote! {
                #method => {
                    #decode
                    let #old: #old_ty = ::bot_sdk::state::load_older::<#self_ty, #old_ty>()?;
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
                    let mut __bot_state: #self_ty = ::bot_sdk::state::load::<#self_ty>()?;
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
                    let __bot_state: #self_ty = ::bot_sdk::state::load::<#self_ty>()?;
                    let __bot_out = #call;
                    drop(__bot_view);
                    ::bot_sdk::ok(&__bot_out)
                }
            }
        }
    }
}

pub(crate) fn contract_impl(mut block: ItemImpl) -> syn::Result<Tokens> {
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
    if entries
        .iter()
        .filter(|e| e.kind == bot_abi::MethodKind::Migrate)
        .count()
        > 1
    {
        return Err(syn::Error::new(
            block.self_ty.span(),
            "a contract has at most one `#[migrate]` method",
        ));
    }
    let abi = abi_record_tokens(&self_ty, &entries);
    let arms = entries.iter().map(|e| dispatch_arm(&self_ty, e));
    let span = block.self_ty.span();
    let entry_ty = quote_spanned!(span=> __BotContractEntry);
    Ok(quote! {
        #block

        #[doc(hidden)]
        pub struct #entry_ty;

        #abi

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
