;; 10,000 calls of the cheapest host function (env.block-height) in a loop.
(module
  (import "bot:contract/env@0.1.0" "block-height" (func $height (result i64)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (call $height)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))
    (i64.store (i32.const 64) (local.get $acc))
    (i32.const 0)))
