//! A component of another world (`hostile:wrong/other`): its `describe` returns a plain
//! string and it has no `calculate`. The host must reject it at upload as "wrong world"
//! (instantiating it as a `calculator` fails type checking) and never store it.

wit_bindgen::generate!({ path: "wit", world: "other" });

struct WrongWorld;

impl Guest for WrongWorld {
    fn describe() -> String {
        "wrong-world: I am not a quote:pricing calculator".into()
    }
}

export!(WrongWorld);
