//! The analysis's sentences, from the macros of a minijinja template (`phrases.j2`, shipped;
//! or the user's): the composer picks a macro and hands it values already written.

use super::render::RenderError;

const NAME: &str = "phrases.j2";

/// The sentence macros.
#[derive(Debug)]
pub struct Phrases {
    env: minijinja::Environment<'static>,
}

impl Phrases {
    /// Load the macros.
    ///
    /// # Errors
    /// A template that does not parse.
    pub fn new(source: &str) -> Result<Phrases, RenderError> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template_owned(NAME, source.to_string())
            .map_err(|source| RenderError::Template { name: NAME, source })?;
        Ok(Phrases { env })
    }

    /// The sentence of macro `name` with these arguments.
    ///
    /// # Errors
    /// No such macro, or one that fails.
    pub fn say(&self, name: &str, args: &[minijinja::Value]) -> Result<String, RenderError> {
        let err = |source| RenderError::Template { name: NAME, source };
        let tpl = self.env.get_template(NAME).map_err(err)?;
        let mut cap = tpl.render_captured(minijinja::context! {}).map_err(err)?;
        cap.with_state_mut(|st| st.call_macro(name, args))
            .map_err(|e| {
                err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("macro {name}: {e}"),
                ))
            })
    }
}
