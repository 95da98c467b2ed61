//! The `rollback` Lambda: its settings, its clients built once, then each
//! event decided and acted on (see the library), on `tandem_core::event_fn`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::event_fn::serve::<rollback::shell::Rollback>().await
}
