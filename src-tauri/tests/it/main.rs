//! Integration tests of the desktop shell: the commands through Tauri's mock runtime
//! (`tauri::test::mock_builder`, real IPC dispatch, real argument parsing) against a real redb
//! store in a temp folder and the testkit loopback server, with the real engine driver and
//! event forwarder; the cross-front scenario the CLI replays too; and the committed TypeScript bindings against a fresh export.

mod bindings;
mod commands;
mod rig;
mod scenario;
