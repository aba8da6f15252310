//! [`Session`]: where the data lives, the company facts and the clock, set up once by the
//! command line, the server or the live runtime. Everything a caller reads goes through it:
//! [`Session::read`] opens the store and hands a [`Context`] at the time asked for, or at the
//! session clock's now, so that "as of now" means one thing everywhere and a test or a replay
//! sets the time by giving its own clock. Writers open the store with [`Session::open`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use canary_model::Timestamp;
use canary_store::{StoreError, Stores, WriteWait};

use crate::clock::{Clock, WallClock};
use crate::facts::Profiles;
use crate::{Context, EngineError};

/// The store, the company facts and the clock of one command, server or runtime.
#[derive(Clone)]
pub struct Session {
    db: PathBuf,
    wait: WriteWait,
    profiles: Option<Arc<Profiles>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("db", &self.db)
            .field("wait", &self.wait)
            .field("profiles", &self.profiles.is_some())
            .field("now", &self.clock.now())
            .finish()
    }
}

impl Session {
    /// A session on the store at `db`, on the wall clock, without company facts, whose writes
    /// wait for another writer as long as the store's default.
    #[must_use]
    pub fn new(db: impl Into<PathBuf>) -> Self {
        Session {
            db: db.into(),
            wait: WriteWait::default(),
            profiles: None,
            clock: Arc::new(WallClock),
        }
    }

    /// The same session on another clock (a replay's, a test's).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same session with company facts: every context it gives reads them.
    #[must_use]
    pub fn with_profiles(mut self, profiles: Arc<Profiles>) -> Self {
        self.profiles = Some(profiles);
        self
    }

    /// The same session, its writes waiting for another writer as `wait` says.
    #[must_use]
    pub fn with_write_wait(mut self, wait: WriteWait) -> Self {
        self.wait = wait;
        self
    }

    /// Where the store is.
    #[must_use]
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// The session's clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, on the session's clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The company facts, if the session has them.
    #[must_use]
    pub fn profiles(&self) -> Option<&Profiles> {
        self.profiles.as_deref()
    }

    /// The store, to write (created if it does not exist).
    ///
    /// # Errors
    /// As [`canary_store::open_with`].
    pub fn open(&self) -> Result<Box<dyn Stores>, StoreError> {
        canary_store::open_with(&self.db, self.wait)
    }

    /// The store, which must exist (to read, or to change what is stored).
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is none; as [`canary_store::open_existing`].
    pub fn open_existing(&self) -> Result<Box<dyn Stores>, StoreError> {
        canary_store::open_existing(&self.db)
    }

    /// What was knowable at `asof` (now on the session's clock when `None`) in `store`, with
    /// the session's company facts: the one place "as of now" is decided.
    ///
    /// # Errors
    /// A database error reading the sources' kinds.
    pub fn context<'a>(
        &'a self,
        store: &'a dyn Stores,
        asof: Option<Timestamp>,
    ) -> Result<Context<'a>, EngineError> {
        let ctx = Context::new(store, asof.unwrap_or_else(|| self.now()))?;
        Ok(match self.profiles.as_deref() {
            Some(p) => ctx.with_profiles(p),
            None => ctx,
        })
    }

    /// Run `f` on what was knowable at `asof` (see [`Session::context`]) in the store, which
    /// must exist.
    ///
    /// # Errors
    /// A store that does not exist or does not open; what `f` returns.
    pub fn read<T>(
        &self,
        asof: Option<Timestamp>,
        f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let store = self.open_existing()?;
        f(&self.context(&*store, asof)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ReplayClock;

    #[test]
    fn a_context_defaults_to_the_session_clock_and_a_missing_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let t = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let s =
            Session::new(dir.path().join("s.db")).with_clock(Arc::new(ReplayClock::starting(t)));
        assert!(matches!(
            s.read(None, |c| Ok(c.asof())),
            Err(EngineError::Store(StoreError::Missing { .. }))
        ));
        drop(s.open().unwrap());
        assert_eq!(s.read(None, |c| Ok(c.asof())).unwrap(), t);
        let earlier = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(s.read(Some(earlier), |c| Ok(c.asof())).unwrap(), earlier);
        assert!(s.read(None, |c| Ok(c.profiles().is_none())).unwrap());
        let facts = s.with_profiles(Arc::new(Profiles::built_in().unwrap()));
        assert!(facts.read(None, |c| Ok(c.profiles().is_some())).unwrap());
    }
}
