//! A password rotation against a real MariaDB (`scripts/mariadb.sh up`):
//! the password changes in the database while the app runs, as Secrets
//! Manager's single-user rotation changes it (`setSecret`), and the secret
//! follows (`finishSecret`). The app is never restarted.
//!
//! Each test makes a database user of its own (the shared test user's
//! password never changes) and drops it at the end.

#[allow(dead_code)] // shared with tests/app.rs, which uses the rest of it
mod support;

use hyper::StatusCode;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use serde_json::json;
use std::sync::Arc;
use support::{TestApp, app_router, database, test_db};
use tandem_app::secret::{DbSettings, MemorySecret};

/// A database user of one test's own, made through the shared test user
/// (which may CREATE USER), whose password the test changes.
struct RotatedUser {
    admin: Conn,
    name: String,
    /// The test database's host and port, and no database: the user has no
    /// grant on any, and `SELECT 1` needs none.
    settings: DbSettings,
}

impl RotatedUser {
    /// Makes `tandem_rot_<pid>_<tag>` with `password`, replacing one a
    /// failed run left behind.
    async fn create(test: &DbSettings, tag: &str, password: &str) -> Self {
        let opts = OptsBuilder::default()
            .ip_or_hostname(test.host.clone())
            .tcp_port(test.port)
            .user(Some(test.username.clone()))
            .pass(Some(test.password.clone()))
            .prefer_socket(false);
        let mut admin = Conn::new(opts)
            .await
            .unwrap_or_else(|e| panic!("the test user cannot log in to make the rotation's user: {e}"));
        let name = format!("tandem_rot_{}_{tag}", std::process::id());
        admin
            .query_drop(format!("DROP USER IF EXISTS '{name}'@'{}'", test.host))
            .await
            .unwrap();
        admin
            .query_drop(format!(
                "CREATE USER '{name}'@'{}' IDENTIFIED BY '{password}'",
                test.host
            ))
            .await
            .unwrap_or_else(|e| {
                panic!("the test user may not CREATE USER ({e}): run `scripts/mariadb.sh up` again, which grants it")
            });
        let settings = DbSettings {
            username: name.clone(),
            password: password.into(),
            dbname: None,
            ..test.clone()
        };
        Self { admin, name, settings }
    }

    /// The rotation's `setSecret`: the database's password changes now.
    async fn set_password(&mut self, password: &str) {
        let host = self.settings.host.clone();
        self.admin
            .query_drop(format!(
                "ALTER USER '{}'@'{host}' IDENTIFIED BY '{password}'",
                self.name
            ))
            .await
            .unwrap();
    }

    /// This user's settings with `password`, as the secret holds them.
    fn with_password(&self, password: &str) -> DbSettings {
        DbSettings {
            password: password.into(),
            ..self.settings.clone()
        }
    }

    async fn drop_user(mut self) {
        let host = self.settings.host.clone();
        let _ = self
            .admin
            .query_drop(format!("DROP USER IF EXISTS '{}'@'{host}'", self.name))
            .await;
        let _ = self.admin.disconnect().await;
    }
}

/// A rotation mid-run: the password changes in the database and in the
/// secret. The next request logs in with the old password and is refused
/// (1045, access denied: the driver logs a pooled connection in again when
/// it resets it for reuse, and a new one logs in anyway); the app reads the
/// secret again, logs in with the new password and answers 200, with no
/// restart. The same again for a second rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_survives_a_password_rotation_without_a_restart() {
    let Some(test) = test_db("db_survives_a_password_rotation_without_a_restart") else {
        return;
    };
    let mut user = RotatedUser::create(&test, "a", "before-rotation-1").await;
    let secret = Arc::new(MemorySecret::from_settings(&user.settings));
    let db = database(&secret);
    db.start().await;
    let app = TestApp::serve(app_router(db, "dev")).await;
    assert_eq!(app.get("/db").await, (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(secret.reads(), 1);

    for (n, password) in [(2, "after-rotation-2"), (3, "after-rotation-3")] {
        user.set_password(password).await;
        secret.set_settings(&user.with_password(password));
        assert_eq!(
            app.get("/db").await,
            (StatusCode::OK, json!({"status": "ok"})),
            "the first request after rotation {}",
            n - 1
        );
        assert_eq!(
            secret.reads(),
            n,
            "the old password's login failed, the secret was read again and its new password used"
        );
        assert_eq!(app.get("/db").await.0, StatusCode::OK);
        assert_eq!(secret.reads(), n, "the new pool is kept while it works");
    }

    app.stop().await.unwrap();
    user.drop_user().await;
}

/// The rotation's window: the database has the new password, the secret
/// still the old one (between `setSecret` and `finishSecret`, or a rotation
/// that failed half-way). A new login fails: `/db` answers a clean 503 that
/// names neither the host, the port, the user nor a password, and recovers
/// as soon as the secret has the new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_the_secret_does_not_have_yet_answers_a_clean_503_then_recovers() {
    let Some(test) = test_db("a_password_the_secret_does_not_have_yet_answers_a_clean_503_then_recovers") else {
        return;
    };
    let mut user = RotatedUser::create(&test, "b", "before-rotation-1").await;
    let secret = Arc::new(MemorySecret::from_settings(&user.settings));
    let app = TestApp::serve(app_router(database(&secret), "dev")).await;
    assert_eq!(app.get("/db").await.0, StatusCode::OK);

    user.set_password("after-rotation-2").await;
    let (status, body) = app.get("/db").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable", "{body}");
    let reason = body["reason"].as_str().expect("a reason");
    for private in [
        test.port.to_string(),
        test.host.clone(),
        user.name.clone(),
        "before-rotation-1".to_owned(),
        "after-rotation-2".to_owned(),
        "Access denied".to_owned(),
        "1045".to_owned(),
    ] {
        assert!(
            !reason.contains(&private),
            "the public answer shows {private:?}: {reason}"
        );
    }
    assert_eq!(
        secret.reads(),
        2,
        "read at first use, and again after the login failed (it still had the old password)"
    );

    secret.set_settings(&user.with_password("after-rotation-2"));
    assert_eq!(
        app.get("/db").await,
        (StatusCode::OK, json!({"status": "ok"})),
        "the secret has the new password now: the next request reads it"
    );
    assert_eq!(secret.reads(), 3);

    app.stop().await.unwrap();
    user.drop_user().await;
}
