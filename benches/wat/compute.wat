;; A compute-heavy loop: 1,000,000 rounds of xorshift64 and a multiply-add, the shape of a hash.
(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (local $i i32) (local $x i64) (local $acc i64)
    (local.set $x (i64.const 0x9e3779b97f4a7c15))
    (loop $l
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) (local.get $x)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
    (i64.store (i32.const 64) (local.get $acc))
    (i32.store (i32.const 4) (i32.const 64))
    (i32.store (i32.const 8) (i32.const 8))
    (i32.const 0)))
