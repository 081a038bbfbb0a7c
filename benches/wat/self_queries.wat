;; `run` queries itself 100 times (method `q`, which returns at once): what a nested call costs,
;; each callee in a store of its own, freed as it returns.
(module
  (import "bot:contract/env@0.1.2" "self-address" (func $self (param i32)))
  (import "bot:contract/calls@0.1.2" "query" (func $query (param i32 i32 i32 i32 i32 i32 i32 i64 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $p))
  (data (i32.const 200) "q")
  (func (export "invoke") (param $method i32) (param $len i32) (param i32 i32) (result i32)
    (local $i i32)
    (if (i32.eq (local.get $len) (i32.const 1)) (then (return (i32.const 0))))
    (call $self (i32.const 100))
    (loop $l
      (call $query (i32.load (i32.const 100)) (i32.load (i32.const 104))
        (i32.const 200) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i32.const 300))
      (if (i32.load8_u (i32.const 300)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (i32.const 0)))
