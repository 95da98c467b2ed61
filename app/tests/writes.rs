//! The write path and its fence over real HTTP, against a real MariaDB:
//! `POST /writes` lands a row while the region may write, and none once a
//! fence is read; `GET /writable` says which.

#[allow(dead_code)] // shared with tests/app.rs, which uses the rest of it
mod support;

use futures_util::future::BoxFuture;
use hyper::{Method, StatusCode};
use mysql_async::prelude::Queryable;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestApp, database, send, test_db};
use tandem_app::fence::{Gate, StandingSource};
use tandem_app::http::{self, AppState};
use tandem_app::secret::MemorySecret;
use tandem_core::state::{FenceRecord, RolesRecord, Standing};

/// A standing the test changes while the app runs.
struct Switch(Mutex<Standing>);

impl StandingSource for Switch {
    fn read(&self) -> BoxFuture<'_, Result<Standing, String>> {
        let standing = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(standing) })
    }
}

fn primary(region: &str) -> Standing {
    Standing {
        roles: Some(RolesRecord {
            primary: region.into(),
            standby: "us-east-2".into(),
            updated_at: 1,
            epoch: 0,
            reason: None,
        }),
        fences: Vec::new(),
    }
}

async fn post(app: &TestApp, path: &str) -> (StatusCode, serde_json::Value) {
    let (status, body) = send(app.addr, Method::POST, path).await.unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

async fn rows(conn: &mut mysql_async::Conn, region: &str) -> u64 {
    conn.exec_first("SELECT COUNT(*) FROM tandem_writes WHERE region = ?", (region,))
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_land_while_the_region_may_write_and_none_once_it_is_fenced() {
    let Some(settings) = test_db("writes_land_while_the_region_may_write_and_none_once_it_is_fenced") else {
        return;
    };
    // A region name of this process's own, so that concurrent runs do not meet.
    let region = format!("test-{}", std::process::id());
    let own = Arc::new(Switch(Mutex::new(primary(&region))));
    let peer = Arc::new(Switch(Mutex::new(Standing::default())));
    let gate = Gate::new(&region, &region, own.clone(), peer.clone(), Duration::ZERO);
    let db = database(&Arc::new(MemorySecret::from_settings(&settings)));
    let app = TestApp::serve(http::router(AppState {
        db: db.clone(),
        image_tag: "dev".into(),
        gate: Arc::new(gate),
        region: region.clone().into(),
    }))
    .await;

    let (status, body) = post(&app, "/writes").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["region"].as_str(), body["epoch"].as_u64()),
        (Some(region.as_str()), Some(0))
    );
    let (status, body) = support::get(app.addr, "/writable").await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut conn = db.conn().await.unwrap();
    assert_eq!(rows(&mut conn, &region).await, 1);

    // The peer fences this region. The peer's table is read in the
    // background, so the fence takes hold within a read of it; from the
    // first refusal on, nothing reaches the writer.
    peer.0.lock().unwrap().fences.push(FenceRecord {
        region: region.clone(),
        epoch: 1,
        by: "us-east-2".into(),
        reason: "the primary failed 3 probes".into(),
        at: 1,
    });
    let mut refused = None;
    for _ in 0..40 {
        let (status, body) = post(&app, "/writes").await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let body = refused.expect("the fence took hold within a second");
    assert_eq!(body["status"], "fenced");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("is fenced: us-east-2 became the primary at epoch 1"),
        "{body}"
    );
    let landed = rows(&mut conn, &region).await;
    for _ in 0..5 {
        let (status, _) = post(&app, "/writes").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (status, _) = support::get(app.addr, "/writable").await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rows(&mut conn, &region).await, landed, "a refused write reaches no row");

    conn.exec_drop("DELETE FROM tandem_writes WHERE region = ?", (region.as_str(),))
        .await
        .unwrap();
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_answers_503_standby_to_a_write() {
    let own = Arc::new(Switch(Mutex::new(Standing::default())));
    let gate = Gate::new("us-east-2", "us-east-1", own.clone(), own, Duration::ZERO);
    let db = database(&Arc::new(MemorySecret::new("{}")));
    let app = TestApp::serve(http::router(AppState {
        db,
        image_tag: "dev".into(),
        gate: Arc::new(gate),
        region: "us-east-2".into(),
    }))
    .await;
    let (status, body) = post(&app, "/writes").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "standby", "{body}");
    app.stop().await.unwrap();
}
