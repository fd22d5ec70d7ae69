//! Child-process supervision for the interop lab.
//!
//! [`Daemon`] owns one long-running process (usually started inside a
//! namespace with [`crate::Netns::exec`]), sends its stdout and stderr to a log
//! file, and kills it on drop. [`ScratchDir`] is the per-namespace temporary
//! directory holding configs, sockets and logs; it is removed on success and
//! kept (with its path printed) when the test panics. [`wait_until`] and
//! [`wait_for`] are the bounded polling helpers every lab assertion uses.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Default poll interval for lab waits.
pub const POLL: Duration = Duration::from_millis(200);

/// Default upper bound for a lab wait (session establishment, route arrival).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How much of a log [`Daemon::logs`] returns (the tail).
const LOG_TAIL_BYTES: u64 = 64 * 1024;

/// Polls `cond` every `poll` until it returns true or `timeout` elapses.
///
/// Returns whether the condition became true. The condition is always
/// evaluated at least once, and once more right at the deadline.
pub fn wait_until(timeout: Duration, poll: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(poll.min(deadline - now));
    }
}

/// Like [`wait_until`] with [`POLL`], but panics when the wait times out.
///
/// The panic message names `what`, the timeout, and appends `diag()` (usually
/// the daemons' logs and their view of the sessions) so a failure in CI can be
/// diagnosed from the test output alone.
pub fn wait_for(
    what: &str,
    timeout: Duration,
    cond: impl FnMut() -> bool,
    diag: impl FnOnce() -> String,
) {
    let start = Instant::now();
    if !wait_until(timeout, POLL, cond) {
        panic!(
            "timed out after {:.1}s waiting for {what}\n{}",
            start.elapsed().as_secs_f64(),
            diag()
        );
    }
}

/// Runs `cmd` to completion; returns stdout, or `Err` with the exit status and
/// both output streams.
pub fn try_run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Runs `cmd` to completion and returns stdout; panics with stderr on failure.
pub fn run(cmd: &mut Command) -> String {
    try_run(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Root of every lab scratch directory: `$BGPV_LAB_DIR` or `/tmp/bgpv-lab`.
///
/// Deliberately not `$TMPDIR`: FRR drops privileges to the `frr` user, which
/// must be able to traverse every parent directory.
pub fn lab_root() -> PathBuf {
    std::env::var_os("BGPV_LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/bgpv-lab"))
}

/// A temporary directory for one namespace's configs, sockets and logs.
///
/// Removed on drop when the test passed; kept when the thread is panicking or
/// `BGPV_KEEP=1` is set, and its path is printed to stderr.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates (or empties) `lab_root()/<name>` with mode 0755.
    pub fn new(name: &str) -> ScratchDir {
        let root = lab_root();
        make_dir_0755(&root);
        let path = root.join(name);
        if path.exists() {
            let _ = fs::remove_dir_all(&path);
        }
        make_dir_0755(&path);
        ScratchDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates (mode 0755) and returns the subdirectory `name`.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let p = self.path.join(name);
        make_dir_0755(&p);
        p
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let keep = std::env::var("BGPV_KEEP").is_ok_and(|v| v == "1");
        if std::thread::panicking() || keep {
            // Never panic in drop (a closed stderr would abort mid-cleanup).
            let _ = writeln!(
                std::io::stderr(),
                "lab: kept scratch directory {}",
                self.path.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn make_dir_0755(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("cannot create {}: {e}", p.display()));
    fs::set_permissions(p, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", p.display()));
}

/// A supervised child process whose stdout and stderr go to a log file.
///
/// Killed with SIGKILL on drop (if still running) and always reaped.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl Daemon {
    /// Spawns `cmd` with stdin from `/dev/null` and stdout+stderr appended to
    /// `log`. Panics (naming `name`) if the process cannot be started.
    pub fn spawn(name: impl Into<String>, mut cmd: Command, log: impl Into<PathBuf>) -> Daemon {
        let name = name.into();
        let log = log.into();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("{name}: cannot open log {}: {e}", log.display()));
        let err = file
            .try_clone()
            .unwrap_or_else(|e| panic!("{name}: cannot dup log fd: {e}"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {cmd:?}: {e}"));
        Daemon {
            name,
            child,
            log,
            exit: None,
        }
    }

    /// The name given at spawn time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id (the daemon itself: `ip netns exec` execs in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The tail (last 64 KiB) of the log, prefixed with a header naming the
    /// daemon, for attaching to assertion failures.
    pub fn logs(&self) -> String {
        let mut out = format!("----- {} log ({}) -----\n", self.name, self.log.display());
        match File::open(&self.log) {
            Ok(mut f) => {
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                if len > LOG_TAIL_BYTES {
                    let _ = f.seek(SeekFrom::Start(len - LOG_TAIL_BYTES));
                    out.push_str("[... earlier output omitted ...]\n");
                }
                let mut buf = Vec::new();
                let _ = f.read_to_end(&mut buf);
                out.push_str(&String::from_utf8_lossy(&buf));
            }
            Err(e) => out.push_str(&format!("(cannot read log: {e})\n")),
        }
        out
    }

    /// Whether the process is still running (reaps it if it exited).
    pub fn is_running(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(st)) => {
                self.exit = Some(st);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// The exit status, once the process has exited and been reaped.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.is_running();
        self.exit
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) if the process is still running.
    pub fn signal(&mut self, signal: i32) {
        if self.is_running() {
            // SAFETY: kill(2) on our own unreaped child's pid; no memory involved.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, signal);
            }
        }
    }

    /// SIGKILL and reap. Idempotent.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        if self.exit.is_none() {
            self.exit = self.child.wait().ok();
        }
    }

    /// SIGTERM, wait up to `grace` for a clean exit, then SIGKILL. Returns the
    /// exit status.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        wait_until(grace, Duration::from_millis(20), || !self.is_running());
        self.kill();
        self.exit
    }

    /// Panics with the log if the process has exited.
    pub fn assert_running(&mut self) {
        if !self.is_running() {
            panic!(
                "{} exited unexpectedly ({:?})\n{}",
                self.name,
                self.exit,
                self.logs()
            );
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
