//! The uniffi binding generator, built from the same uniffi version as `waystation-ffi`
//! so that the generated Kotlin, Swift and Python always match the library's scaffolding.

fn main() {
    uniffi::uniffi_bindgen_main()
}
