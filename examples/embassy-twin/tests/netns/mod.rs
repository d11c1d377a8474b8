//! A network namespace with a TAP device for the twin's tests (shared by `tap.rs` and
//! `fault_matrix.rs`). Needs root and /dev/net/tun.

#![allow(dead_code)]

use std::os::fd::AsFd;
use std::process::Command;

/// The TAP's kernel side: where servers inside the namespace listen.
pub const SERVER_IP: &str = "192.168.69.100";

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace with a TAP device whose kernel side is the server's address. Deleted
/// (with everything still running in it) on drop.
pub struct Netns(String);

impl Netns {
    pub fn new(tag: &str) -> Netns {
        assert!(
            std::path::Path::new("/dev/net/tun").exists(),
            "/dev/net/tun is missing: the TAP test needs it (and root)"
        );
        let name = format!("pusher-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "delete", &name]).output();
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["tuntap", "add", "name", "tap0", "mode", "tap"]);
        ns.ip(&["addr", "add", &format!("{SERVER_IP}/24"), "dev", "tap0"]);
        ns.ip(&["link", "set", "tap0", "up"]);
        ns
    }

    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").args(["-n", &self.0]).args(args));
    }

    /// A command that runs inside the namespace.
    pub fn exec(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            // Not this test process, should its main thread be the one that entered.
            let me = std::process::id().to_string();
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if pid == me {
                    continue;
                }
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

impl Netns {
    /// [`Netns::new`], entered by the calling thread, so the servers and processes it starts
    /// from then on live in it too.
    pub fn enter(tag: &str) -> Netns {
        let ns = Netns::new(tag);
        let file = std::fs::File::open(format!("/var/run/netns/{}", ns.0)).expect("netns file");
        rustix::thread::move_into_link_name_space(
            file.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .expect("enter the namespace (needs root)");
        ns
    }
}
