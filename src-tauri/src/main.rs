//! `catalog-sync-desktop`: starts the desktop app (see the library's docs).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    catalog_sync_core::allocator::tune();
    catalog_sync_desktop::run();
}
