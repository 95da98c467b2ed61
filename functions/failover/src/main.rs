//! The `failover` Lambda: its settings, its clients built once, then each
//! event handled (see the library), on `tandem_core::event_fn`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::event_fn::serve::<failover::shell::Failover>().await
}
