//! The `notify` Lambda: its settings, its clients built once, then each
//! ops-topic message posted to the chat webhook (see the library), on
//! `tandem_core::event_fn`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::event_fn::serve::<notify::shell::Notify>().await
}
