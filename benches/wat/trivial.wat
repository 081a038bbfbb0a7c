;; The smallest contract: invoke returns ok with no bytes. Also the raw-wasmer baseline module.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $p))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (i32.const 0)))
