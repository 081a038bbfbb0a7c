//! Map keys encoded so that byte order is key order: the host scans storage in byte order, so
//! a map's ordered iteration and range queries are the keys' own order.
//!
//! Integers are big-endian (signed ones with the sign bit flipped); strings and byte strings
//! are their bytes when they end the key, and escaped (`00` → `00 ff`) and terminated with
//! `00 00` when another component follows, which keeps both order and boundaries; tuples
//! concatenate their components, so a map keyed by `(device, time)` can be read one device at
//! a time, in time order.

use crate::Address;

/// A type that can key a [`crate::collections::Map`].
pub trait Key: Sized {
    /// Appends the encoding of `self` as the last component of a key.
    fn encode_last(&self, out: &mut Vec<u8>);
    /// Decodes a key that is exactly `bytes`.
    fn decode_last(bytes: &[u8]) -> Option<Self>;
    /// Appends a self-delimiting encoding of `self`, for a component with more after it.
    fn encode_part(&self, out: &mut Vec<u8>) {
        self.encode_last(out)
    }
    /// Decodes a self-delimiting component, returning the rest of the bytes.
    fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])>;

    /// The key's bytes when it is the whole key.
    fn to_key(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_last(&mut out);
        out
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Key for $t {
            fn encode_last(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn decode_last(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_be_bytes(bytes.try_into().ok()?))
            }
            fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
                let (head, rest) = bytes.split_at_checked(size_of::<$t>())?;
                Some((Self::decode_last(head)?, rest))
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, u128);

macro_rules! signed {
    ($($t:ty => $u:ty),*) => {$(
        impl Key for $t {
            fn encode_last(&self, out: &mut Vec<u8>) {
                ((*self as $u) ^ (1 << (<$u>::BITS - 1))).encode_last(out)
            }
            fn decode_last(bytes: &[u8]) -> Option<Self> {
                Some((<$u>::decode_last(bytes)? ^ (1 << (<$u>::BITS - 1))) as $t)
            }
            fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
                let (head, rest) = bytes.split_at_checked(size_of::<$t>())?;
                Some((Self::decode_last(head)?, rest))
            }
        }
    )*};
}
signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128);

impl Key for Address {
    fn encode_last(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0)
    }
    fn decode_last(bytes: &[u8]) -> Option<Self> {
        Some(Address(bytes.try_into().ok()?))
    }
    fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
        let (head, rest) = bytes.split_at_checked(20)?;
        Some((Self::decode_last(head)?, rest))
    }
}

impl<const N: usize> Key for [u8; N] {
    fn encode_last(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self)
    }
    fn decode_last(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }
    fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
        let (head, rest) = bytes.split_at_checked(N)?;
        Some((head.try_into().ok()?, rest))
    }
}

fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn unescape(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        match (bytes.get(i)?, bytes.get(i + 1)) {
            (0, Some(0)) => return Some((out, &bytes[i + 2..])),
            (0, Some(0xff)) => {
                out.push(0);
                i += 2;
            }
            (0, _) => return None,
            (&b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
}

impl Key for Vec<u8> {
    fn encode_last(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self)
    }
    fn decode_last(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
    fn encode_part(&self, out: &mut Vec<u8>) {
        escape(self, out)
    }
    fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
        unescape(bytes)
    }
}

impl Key for String {
    fn encode_last(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes())
    }
    fn decode_last(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
    fn encode_part(&self, out: &mut Vec<u8>) {
        escape(self.as_bytes(), out)
    }
    fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
        let (raw, rest) = unescape(bytes)?;
        Some((String::from_utf8(raw).ok()?, rest))
    }
}

macro_rules! tuple {
    ($($name:ident)+ ; $last:ident) => {
        #[allow(non_snake_case)]
        impl<$($name: Key,)+ $last: Key> Key for ($($name,)+ $last) {
            fn encode_last(&self, out: &mut Vec<u8>) {
                let ($($name,)+ $last) = self;
                $($name.encode_part(out);)+
                $last.encode_last(out);
            }
            fn decode_last(bytes: &[u8]) -> Option<Self> {
                $(let ($name, bytes) = $name::decode_part(bytes)?;)+
                Some(($($name,)+ $last::decode_last(bytes)?))
            }
            fn encode_part(&self, out: &mut Vec<u8>) {
                let ($($name,)+ $last) = self;
                $($name.encode_part(out);)+
                $last.encode_part(out);
            }
            fn decode_part(bytes: &[u8]) -> Option<(Self, &[u8])> {
                $(let ($name, bytes) = $name::decode_part(bytes)?;)+
                let ($last, bytes) = $last::decode_part(bytes)?;
                Some((($($name,)+ $last), bytes))
            }
        }
    };
}
tuple!(A; B);
tuple!(A B; C);
tuple!(A B C; D);

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_like_bytes<K: Key + Ord + Clone + core::fmt::Debug>(mut keys: Vec<K>) {
        let mut by_bytes = keys.clone();
        by_bytes.sort_by_key(|k| k.to_key());
        keys.sort();
        assert_eq!(keys, by_bytes);
        for k in keys {
            assert_eq!(K::decode_last(&k.to_key()), Some(k.clone()));
            let mut part = Vec::new();
            k.encode_part(&mut part);
            part.push(7);
            assert_eq!(K::decode_part(&part), Some((k, &[7u8][..])));
        }
    }

    #[test]
    fn byte_order_is_key_order() {
        sorted_like_bytes(vec![0u64, 1, 255, 256, u64::MAX, 70_000]);
        sorted_like_bytes(vec![i64::MIN, -300, -1, 0, 1, 299, i64::MAX]);
        sorted_like_bytes(vec![-5i8, 5, 0, i8::MIN]);
        sorted_like_bytes(vec![
            ("b".to_string(), 1u64),
            ("a".to_string(), 9),
            ("aa".to_string(), 0),
            ("a\0".to_string(), 3),
            ("".to_string(), u64::MAX),
        ]);
        sorted_like_bytes(vec![
            (vec![0u8, 0], 2u8, "x".to_string()),
            (vec![0u8], 3, "".to_string()),
            (vec![], 1, "z".to_string()),
        ]);
    }

    #[test]
    fn malformed_bytes_do_not_decode() {
        assert_eq!(u64::decode_last(&[1, 2, 3]), None);
        assert_eq!(<(String, u8)>::decode_last(&[b'a', 0, 1, 5]), None);
        assert_eq!(String::decode_last(&[0xff]), None);
    }
}
