//! The directory lock: one open log per directory, within a process and across processes; the
//! kernel releases it when the holder closes it, drops it, or is killed.

mod common;

use common::*;
use metastore_wal::{repair, Wal, WalError};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

type Attempt = fn(&Path) -> Result<(), WalError>;

/// The tests of this file run one at a time. A child process forked by one of them holds a copy
/// of every descriptor open in the parent until it execs, a lock file's included: another test
/// dropping its log in that window would see the lock outlive the drop.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn attempts() -> [(&'static str, Attempt); 3] {
    [("open", |d| Wal::open(d, small()).map(drop)), ("open_after", |d| Wal::open_after(d, small(), 2).map(drop)), ("repair", |d| repair(d, 0).map(drop))]
}

fn assert_locked(result: Result<(), WalError>, dir: &Path, what: &str) {
    match result {
        Err(WalError::Locked(path)) => {
            assert_eq!(path, dir.join("LOCK"), "{what}");
            let message = WalError::Locked(path).to_string();
            assert!(message.contains("another process or instance has the log open"), "{what}: {message}");
        }
        Err(e) => panic!("{what}: expected Locked, got {e}"),
        Ok(()) => panic!("{what}: a second open of a locked log succeeded"),
    }
}

#[test]
fn a_second_open_in_the_same_process_fails_with_locked() {
    let _serial = one_at_a_time();
    let dir = temp_dir("lock-same");
    fill(&dir, 3);
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    for (what, attempt) in attempts() {
        assert_locked(attempt(&dir), &dir, what);
    }
    // The holder is not disturbed by the failed attempts.
    assert_eq!(wal.append(1, &[b"still mine"]).unwrap(), 10);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_lock_is_released_when_the_wal_is_dropped() {
    let _serial = one_at_a_time();
    let dir = temp_dir("lock-drop");
    fill(&dir, 3);
    for (what, attempt) in attempts() {
        let (wal, _, _) = Wal::open(&dir, small()).unwrap();
        assert_locked(attempt(&dir), &dir, what);
        drop(wal);
        attempt(&dir).unwrap_or_else(|e| panic!("{what} after the holder was dropped: {e}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

const CHILD_DIR: &str = "METASTORE_WAL_TEST_LOCK_HOLDER_DIR";

/// Not a test by itself: run as a child process by the test below, it opens the log, says so,
/// and waits until it is killed (or its stdin closes).
#[test]
fn child_process_that_holds_the_lock() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let (_wal, _, _) = Wal::open(Path::new(&dir), small()).unwrap();
    println!("holding");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

#[test]
fn another_process_holding_the_log_locks_it_until_it_is_killed() {
    let _serial = one_at_a_time();
    let dir = temp_dir("lock-process");
    fill(&dir, 3);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_that_holds_the_lock", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("holding")), "the child did not open the log");
    for (what, attempt) in attempts() {
        assert_locked(attempt(&dir), &dir, what);
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs, the kernel drops the lock.
    child.wait().unwrap();
    let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(entries.len(), 9);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}
