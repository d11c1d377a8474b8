//! The fault matrix (`common/matrix.rs`) for the std driver (`pusher-std`'s `Pusher` on its
//! own thread).

mod common;

use common::ClientThread;
use common::matrix;

#[test]
fn reset_mid_frame() {
    matrix::reset_mid_frame::<ClientThread>();
}

#[test]
fn stall_both_ways() {
    matrix::stall_both_ways::<ClientThread>();
}

#[test]
fn swallowed_pongs() {
    matrix::swallowed_pongs::<ClientThread>();
}

#[test]
fn close_4100_backs_off() {
    matrix::close_4100_backs_off::<ClientThread>();
}

#[test]
fn close_4201_reconnects_at_once() {
    matrix::close_4201_reconnects_at_once::<ClientThread>();
}

#[test]
fn refused_connections_for_three_seconds() {
    matrix::refused_connections_for_three_seconds::<ClientThread>();
}

#[test]
fn server_restart() {
    matrix::server_restart::<ClientThread>();
}

#[test]
fn twenty_rapid_faults() {
    matrix::twenty_rapid_faults::<ClientThread>();
}

#[test]
fn trickled_bytes_lose_nothing() {
    matrix::trickled_bytes_lose_nothing::<ClientThread>();
}
