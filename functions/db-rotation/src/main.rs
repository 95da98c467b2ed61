//! The `db-rotation` Lambda: its settings, its clients built once, then each
//! rotation step Secrets Manager invokes it with (see the library), on
//! `tandem_core::event_fn`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::event_fn::serve::<db_rotation::shell::Rotation>().await
}
