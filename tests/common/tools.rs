//! Real client libraries for the tests, from their own registries at pinned versions
//! (PyPI through pip, npm), installed once under `target/test-tools`: a hand-written client
//! would prove only that the server agrees with itself.
//!
//! Each install goes to a fresh folder that is renamed into place when complete, so tests
//! that start at once, in one process or several, never see half of one.

use std::path::{Path, PathBuf};
use tokio::process::Command;

fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-tools")
}

/// Runs an installer into a fresh folder beside `dir` and renames it to `dir`; `done` is
/// what must exist inside once the install is complete.
async fn install(dir: &Path, done: &str, what: &str, run: impl FnOnce(&Path) -> Command) {
    if dir.join(done).exists() {
        return;
    }
    let parent = dir.parent().expect("a parent folder");
    std::fs::create_dir_all(parent).expect("target/test-tools");
    let fresh = tempfile::tempdir_in(parent).expect("a folder to install into");
    let out = run(fresh.path())
        .output()
        .await
        .unwrap_or_else(|err| panic!("{what}: could not run the installer ({err})"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = fresh.keep();
    // Another test may have finished the same install first: its copy is as good.
    if std::fs::rename(&fresh, dir).is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    assert!(
        dir.join(done).exists(),
        "{what}: {done} is missing after the install"
    );
}

/// A folder to put on `PYTHONPATH` with these pinned PyPI packages (`name==version`) and
/// their dependencies; `module` is the one to import, which proves the install complete.
pub async fn python_packages(folder: &str, module: &str, packages: &[&str]) -> PathBuf {
    let dir = tools_dir().join(folder);
    let what = format!("pip install {}", packages.join(" "));
    install(&dir, module, &what, |into| {
        let mut command = Command::new("python3");
        command
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "--target"])
            .arg(into)
            .args(packages);
        command
    })
    .await;
    dir
}

/// A folder with `node_modules` holding these pinned npm packages (`name@version`).
pub async fn node_packages(folder: &str, packages: &[&str]) -> PathBuf {
    let dir = tools_dir().join(folder);
    let what = format!("npm install {}", packages.join(" "));
    let first = packages[0]
        .rsplit_once('@')
        .map_or(packages[0], |(name, _)| name);
    let done = format!("node_modules/{first}/package.json");
    install(&dir, &done, &what, |into| {
        let mut command = Command::new("npm");
        command
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "--save-exact",
            ])
            .arg("--prefix")
            .arg(into)
            .args(packages);
        command
    })
    .await;
    dir
}
