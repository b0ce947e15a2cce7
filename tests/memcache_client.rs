//! An unchanged memcached client library (the `memcache` crate, text
//! protocol) doing its usual operations against the server, on one shard and
//! on two.

mod common;

use std::collections::HashMap;

use common::{key_on_shard, Server};

fn each_thread_count(test: impl Fn(&Server, usize)) {
    for threads in [1, 2] {
        let server = Server::start(threads);
        test(&server, threads);
    }
}

#[test]
fn set_get_and_multi_get() {
    each_thread_count(|server, threads| {
        let client = server.client();
        let keys: Vec<String> = (0..8)
            .map(|i| key_on_shard(&format!("user:{i}:"), i % threads, threads))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            client.set(key, format!("value-{i}").as_str(), 0).unwrap();
        }
        assert_eq!(
            client.get::<String>(&keys[3]).unwrap().as_deref(),
            Some("value-3")
        );
        assert_eq!(client.get::<String>("no-such-key").unwrap(), None);
        let wanted: Vec<&str> = keys.iter().map(String::as_str).chain(["absent"]).collect();
        let found: HashMap<String, String> = client.gets(&wanted).unwrap();
        assert_eq!(found.len(), keys.len());
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(found[key], format!("value-{i}"));
        }
    });
}

#[test]
fn add_replace_append_prepend_delete() {
    each_thread_count(|server, _| {
        let client = server.client();
        client.add("k", "1", 0).unwrap();
        // The crate reports NOT_STORED as success; the value tells.
        client.add("k", "2", 0).unwrap();
        assert_eq!(client.get::<String>("k").unwrap().as_deref(), Some("1"));
        client.replace("k", "3", 0).unwrap();
        client.replace("nope", "3", 0).unwrap();
        assert_eq!(client.get::<String>("nope").unwrap(), None);
        client.append("k", "4").unwrap();
        client.prepend("k", "2").unwrap();
        assert_eq!(client.get::<String>("k").unwrap().as_deref(), Some("234"));
        assert!(client.delete("k").unwrap());
        assert!(!client.delete("k").unwrap());
        assert_eq!(client.get::<String>("k").unwrap(), None);
    });
}

#[test]
fn cas_through_the_client() {
    each_thread_count(|server, _| {
        let client = server.client();
        client.set("c", "v1", 0).unwrap();
        let values: HashMap<String, (Vec<u8>, u32, Option<u64>)> = client.gets(&["c"]).unwrap();
        let cas = values["c"].2.expect("gets returns a cas unique");
        assert!(client.cas("c", "v2", 0, cas).unwrap());
        assert!(
            !client.cas("c", "v3", 0, cas).unwrap(),
            "stale cas must fail"
        );
        assert_eq!(client.get::<String>("c").unwrap().as_deref(), Some("v2"));
    });
}

#[test]
fn counters_touch_flush_version_stats() {
    each_thread_count(|server, threads| {
        let client = server.client();
        client.set("n", 41u64, 0).unwrap();
        assert_eq!(client.increment("n", 1).unwrap(), 42);
        assert_eq!(client.decrement("n", 50).unwrap(), 0);
        assert!(client.touch("n", 100).unwrap());
        assert!(!client.touch("absent", 100).unwrap());
        let versions = client.version().unwrap();
        assert!(versions[0].1.starts_with("1.6."), "{versions:?}");
        // (The crate's text-protocol `stats` is broken: it stops at the first
        // line. Read them raw instead.)
        let mut raw = server.connect();
        raw.send(b"stats\r\n");
        let stats = String::from_utf8(raw.read_until(b"END\r\n")).unwrap();
        assert!(
            stats.contains(&format!("STAT threads {threads}\r\n")),
            "{stats}"
        );
        assert!(stats.contains("STAT curr_items 1\r\n"), "{stats}");
        client.flush().unwrap();
        assert_eq!(client.get::<u64>("n").unwrap(), None);
    });
}

#[test]
fn many_clients_on_many_shards_see_each_others_writes() {
    let server = Server::start(2);
    let handles: Vec<_> = (0..4)
        .map(|writer| {
            let port = server.port;
            std::thread::spawn(move || {
                let url = format!("memcache://127.0.0.1:{port}?protocol=ascii&timeout=10");
                let client = memcache::Client::connect(url.as_str()).unwrap();
                for i in 0..200 {
                    client
                        .set(
                            &format!("w{writer}:{i}"),
                            format!("{writer}-{i}").as_str(),
                            0,
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let client = server.client();
    for writer in 0..4 {
        let keys: Vec<String> = (0..200).map(|i| format!("w{writer}:{i}")).collect();
        let wanted: Vec<&str> = keys.iter().map(String::as_str).collect();
        let found: HashMap<String, String> = client.gets(&wanted).unwrap();
        assert_eq!(found.len(), 200);
        assert_eq!(found[&format!("w{writer}:7")], format!("{writer}-7"));
    }
}

/// libmemcached's own conformance checks (`memccapable`, from Debian's
/// libmemcached-tools, installed by `.ci/run`): a second, independent client
/// library against the text protocol.
#[test]
fn libmemcached_capability_checks_pass() {
    if std::process::Command::new("memccapable")
        .arg("--help")
        .output()
        .is_err()
    {
        // .ci/run installs it and sets CORECACHE_REQUIRE_MEMCCAPABLE.
        assert!(
            std::env::var_os("CORECACHE_REQUIRE_MEMCCAPABLE").is_none(),
            "memccapable is missing: install libmemcached-tools"
        );
        eprintln!("note: memccapable not installed (apt-get install libmemcached-tools); skipped");
        return;
    }
    for threads in [1, 2] {
        let server = Server::start(threads);
        let output = std::process::Command::new("memccapable")
            .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "-a"])
            .output()
            .expect("run memccapable");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            report.contains("All tests passed") && !report.contains("[FAIL]"),
            "memccapable against {threads} thread(s):\n{report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
