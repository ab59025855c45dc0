//! Storage faults of the real filesystem, against the real binary: `consola serve` on a 2 MB
//! tmpfs fed writes until the disk is full (the database then fails at COMMIT, when SQLite
//! appends to its WAL), and its database files made immutable while it runs. Every write
//! either gets 503 or is stored (an independent read-only connection sees it, and it is
//! there after a restart); when the fault is removed, writes succeed without a restart.
//!
//! The tmpfs lives in a mount namespace of its own (`unshare --user --map-root-user
//! --mount`), so the test needs no privilege; the server runs inside it through `nsenter`,
//! and the test copies the files out through `/proc/PID/root` to read them.

mod binary;
mod common;
mod faults;

use faults::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A process that holds a mount namespace with a small tmpfs at `dir`.
struct SmallDisk {
    holder: Child,
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        let mut holder = Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                "--mount",
                "--propagation",
                "private",
            ])
            .args(["sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o size={size} tmpfs \"$0\" && echo mounted && exec sleep 900"
            ))
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare (util-linux) runs");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "mounted",
            "a tmpfs in a user and mount namespace (unshare -Urm) could not be mounted"
        );
        SmallDisk {
            holder,
            dir: dir.to_path_buf(),
        }
    }

    /// `path` as seen from outside the namespace.
    fn outside(&self, path: &Path) -> PathBuf {
        let relative = path.strip_prefix("/").unwrap_or(path);
        PathBuf::from(format!("/proc/{}/root", self.holder.id())).join(relative)
    }

    /// A copy of the database's files as they are on the tmpfs now (SQLite resolves the
    /// `/proc/PID/root` link to the host's empty directory, so it cannot open them there).
    /// SQLite rebuilds the WAL index of the copy from the WAL itself.
    fn snapshot(&self, data: &Path, into: &Path) -> PathBuf {
        for file in ["consola.db", "consola.db-wal"] {
            let from = self.outside(&data.join(file));
            if from.exists() {
                std::fs::copy(&from, into.join(file)).expect("copy the database out");
            }
        }
        into.join("consola.db")
    }

    fn inside(&self, program: &Path) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args([
                "-t",
                &self.holder.id().to_string(),
                "-U",
                "-m",
                "--preserve-credentials",
            ])
            .arg(program);
        command
    }

    fn resize(&self, size: &str) {
        let status = self
            .inside(Path::new("mount"))
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(status.success(), "remount the tmpfs to {size}");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

struct Served {
    child: Child,
    url: String,
}

impl Served {
    /// Starts `serve`; its log (stderr) goes to `log`.
    fn start(mut command: Command, data: &Path, log: &Path) -> Served {
        // As `binary::consola()` isolates the binary from the machine's settings.
        command.env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
        for var in [
            "CONSOLA_CONFIG",
            "CONSOLA_DATA_DIR",
            "CONSOLA_DATABASE_URL",
            "RUST_LOG",
        ] {
            command.env_remove(var);
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("serve starts");
        let url = binary::served_url(&mut child);
        Served { child, url }
    }

    /// SIGTERM, and wait for the exit.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_consola");

/// The log names the fault once when writes start failing and once when they succeed
/// again, however many requests failed in between.
fn assert_one_episode(log: &Path) {
    let log = std::fs::read_to_string(log).unwrap();
    let count = |words: &str| log.lines().filter(|l| l.contains(words)).count();
    assert_eq!(
        count("the database refuses writes"),
        1,
        "one line when it starts:\n{log}"
    );
    assert_eq!(
        count("the database takes writes again"),
        1,
        "one line when it ends:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_and_takes_them_again_when_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(dir.path(), "2m");
    let data = dir.path().join("data");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("serve.log");
    let server = Served::start(disk.inside(Path::new(BIN)), &data, &log);
    let (anonymous, admin, group_id) = signed_in(&server.url).await;
    let mut ledger = Ledger::default();

    // 1. Fill the disk until a write fails.
    let mut i = 0;
    while ledger.refused == 0 {
        assert!(i < 2_000, "the disk never filled");
        write(&admin, &anonymous, group_id, &mut ledger, i * 9, "lleno").await;
        i += 1;
    }
    assert_eq!(
        readyz(&server.url).await,
        503,
        "not ready while writes fail"
    );

    // 2. Writes of every kind while it is full: 503, or stored.
    for i in 0..WRITES_UNDER_FAULT {
        write(&admin, &anonymous, group_id, &mut ledger, i, "lleno").await;
    }
    let copies = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        let into = copies.path().join(name);
        std::fs::create_dir(&into).unwrap();
        disk.snapshot(&data, &into)
    };
    assert_stored(&copy("full"), &ledger).await;

    // 3. The disk grows: writes succeed again, without a restart.
    disk.resize("16m");
    let refused_before = ledger.refused;
    for i in 0..18 {
        write(&admin, &anonymous, group_id, &mut ledger, i, "lleno").await;
    }
    assert_eq!(
        ledger.refused, refused_before,
        "writes succeed once space returns"
    );
    assert_eq!(readyz(&server.url).await, 200, "ready again");
    assert_stored(&copy("grown"), &ledger).await;

    // 4. All of it survives a restart.
    server.stop();
    assert_one_episode(&log);
    let server = Served::start(
        disk.inside(Path::new(BIN)),
        &data,
        &logs.path().join("again.log"),
    );
    assert_served(&server.url, &ledger).await;
    eprintln!(
        "full disk: {} writes tried, {} acknowledged, {} refused with 503; all {} acknowledged found after restart",
        ledger.tried, ledger.acknowledged, ledger.refused, ledger.acknowledged
    );
    server.stop();
}

/// Whether this process may set the immutable attribute (CAP_LINUX_IMMUTABLE: root).
fn may_set_immutable(probe: &Path) -> bool {
    std::fs::write(probe, b"x").unwrap();
    let set = Command::new("chattr")
        .arg("+i")
        .arg(probe)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if set {
        let _ = Command::new("chattr").arg("-i").arg(probe).status();
    }
    set
}

fn chattr(flag: &str, files: &[PathBuf]) {
    let status = Command::new("chattr")
        .arg(flag)
        .args(files.iter().filter(|f| f.exists()))
        .status()
        .unwrap();
    assert!(status.success(), "chattr {flag}");
}

/// The database file, its WAL and their directory made immutable while the server runs
/// (writes to them fail with EPERM, as on a file system remounted read-only); root only, since setting the
/// attribute needs CAP_LINUX_IMMUTABLE. `.ci/run` runs as root and sets
/// `CONSOLA_TEST_ROOT=1`, so there it can never pass unrun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_database_files_refuse_writes_with_503_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    if !may_set_immutable(&dir.path().join("probe")) {
        assert!(
            std::env::var_os("CONSOLA_TEST_ROOT").is_none(),
            "CONSOLA_TEST_ROOT is set but chattr +i is refused: run as root"
        );
        eprintln!("read-only fault not tried: setting the immutable attribute needs root");
        return;
    }
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let server = Served::start(Command::new(BIN), &data, &log);
    let (anonymous, admin, group_id) = signed_in(&server.url).await;
    let mut ledger = Ledger::default();
    for i in 0..3 {
        write(
            &admin,
            &anonymous,
            group_id,
            &mut ledger,
            i * 9,
            "no se guardó",
        )
        .await;
    }
    // The files, and the directory that holds them.
    let mut files: Vec<PathBuf> = ["consola.db", "consola.db-wal"]
        .iter()
        .map(|f| data.join(f))
        .collect();
    files.push(data.clone());
    chattr("+i", &files);
    for i in 0..WRITES_UNDER_FAULT {
        write(&admin, &anonymous, group_id, &mut ledger, i, "no se guardó").await;
    }
    let refused = ledger.refused;
    assert!(refused > 0, "writes to immutable files are refused");
    assert_eq!(readyz(&server.url).await, 503);
    assert_stored(&data.join("consola.db"), &ledger).await;

    chattr("-i", &files);
    for i in 0..18 {
        write(&admin, &anonymous, group_id, &mut ledger, i, "no se guardó").await;
    }
    assert_eq!(
        ledger.refused, refused,
        "writes succeed once the files are writable"
    );
    assert_eq!(readyz(&server.url).await, 200);
    server.stop();
    assert_one_episode(&log);
    let server = Served::start(Command::new(BIN), &data, &dir.path().join("again.log"));
    assert_served(&server.url, &ledger).await;
    eprintln!(
        "read-only files: {} writes tried, {} acknowledged, {} refused with 503; all {} acknowledged found after restart",
        ledger.tried, ledger.acknowledged, ledger.refused, ledger.acknowledged
    );
    server.stop();
}
