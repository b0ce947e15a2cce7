//! The memcached text protocol over raw TCP: exact replies for every command
//! and every error path, on one shard and on several.
//!
//! Every expected reply here is memcached 1.6's: run the suite with
//! `CORECACHE_TEST_AGAINST=memcached` to check them against it. Deliberate
//! differences are marked with `is_corecache()`.

mod common;

use common::{key_on_shard, Options, Server};

fn each_thread_count(test: impl Fn(&Server)) {
    for threads in [1, 2] {
        let server = Server::start(threads);
        test(&server);
    }
}

#[test]
fn set_get_gets_and_cas() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"set k1 5 0 3\r\nabc\r\n", b"STORED\r\n");
        c.expect(b"get k1\r\n", b"VALUE k1 5 3\r\nabc\r\nEND\r\n");
        c.expect(b"get missing\r\n", b"END\r\n");
        c.send(b"gets k1\r\n");
        let header = c.line();
        let parts: Vec<&str> = header.trim_end().split(' ').collect();
        assert_eq!(&parts[..4], ["VALUE", "k1", "5", "3"], "{header}");
        let cas: u64 = parts[4].parse().expect("cas unique");
        assert_eq!(c.read_until(b"END\r\n"), b"abc\r\nEND\r\n");
        let stale = cas + 1000;
        c.expect(
            format!("cas k1 0 0 1 {stale}\r\nx\r\n").as_bytes(),
            b"EXISTS\r\n",
        );
        c.expect(
            format!("cas k1 7 0 2 {cas}\r\nxy\r\n").as_bytes(),
            b"STORED\r\n",
        );
        c.expect(b"get k1\r\n", b"VALUE k1 7 2\r\nxy\r\nEND\r\n");
        c.expect(
            format!("cas k1 0 0 1 {cas}\r\nz\r\n").as_bytes(),
            b"EXISTS\r\n",
        );
        c.expect(b"cas nokey 0 0 1 1\r\nz\r\n", b"NOT_FOUND\r\n");
    });
}

#[test]
fn add_replace_append_prepend() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"add a 1 0 1\r\nx\r\n", b"STORED\r\n");
        c.expect(b"add a 2 0 1\r\ny\r\n", b"NOT_STORED\r\n");
        c.expect(b"replace b 0 0 1\r\ny\r\n", b"NOT_STORED\r\n");
        c.expect(b"replace a 3 0 1\r\ny\r\n", b"STORED\r\n");
        c.expect(b"append a 9 0 2\r\nzz\r\n", b"STORED\r\n");
        c.expect(b"prepend a 9 0 2\r\naa\r\n", b"STORED\r\n");
        // append/prepend keep the item's flags.
        c.expect(b"get a\r\n", b"VALUE a 3 5\r\naayzz\r\nEND\r\n");
        c.expect(b"append nope 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
        c.expect(b"prepend nope 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
    });
}

#[test]
fn values_are_binary_safe_and_flags_are_32_bit() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(
            b"set bin 4294967295 0 6\r\n\r\n\0\xff\r\n\r\n",
            b"STORED\r\n",
        );
        c.expect(
            b"get bin\r\n",
            b"VALUE bin 4294967295 6\r\n\r\n\0\xff\r\n\r\nEND\r\n",
        );
        c.expect(b"set empty 0 0 0\r\n\r\n", b"STORED\r\n");
        c.expect(b"get empty\r\n", b"VALUE empty 0 0\r\n\r\nEND\r\n");
    });
}

#[test]
fn expiry_relative_absolute_and_negative() {
    each_thread_count(|server| {
        let mut c = server.connect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        c.expect(b"set neg 0 -1 1\r\nx\r\n", b"STORED\r\n");
        c.expect(b"get neg\r\n", b"END\r\n");
        let past = now - 60;
        c.expect(
            format!("set past 0 {past} 1\r\nx\r\n").as_bytes(),
            b"STORED\r\n",
        );
        c.expect(b"get past\r\n", b"END\r\n");
        let future = now + 3600;
        c.expect(
            format!("set future 0 {future} 1\r\nx\r\n").as_bytes(),
            b"STORED\r\n",
        );
        c.expect(b"get future\r\n", b"VALUE future 0 1\r\nx\r\nEND\r\n");
        c.expect(b"set soon 0 1 1\r\nx\r\n", b"STORED\r\n");
        c.expect(b"set later 0 100 1\r\nx\r\n", b"STORED\r\n");
        std::thread::sleep(std::time::Duration::from_millis(2100));
        c.expect(b"get soon\r\n", b"END\r\n");
        c.expect(b"get later\r\n", b"VALUE later 0 1\r\nx\r\nEND\r\n");
    });
}

#[test]
fn touch_gat_and_gats() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"set t 3 100 2\r\nhi\r\n", b"STORED\r\n");
        c.expect(b"touch t 0\r\n", b"TOUCHED\r\n");
        c.expect(b"touch nothere 10\r\n", b"NOT_FOUND\r\n");
        c.expect(b"gat 100 t nothere\r\n", b"VALUE t 3 2\r\nhi\r\nEND\r\n");
        c.send(b"gats 100 t\r\n");
        let header = c.line();
        assert!(header.starts_with("VALUE t 3 2 "), "{header}");
        assert_eq!(c.read_until(b"END\r\n"), b"hi\r\nEND\r\n");
        // gat with a negative exptime expires the item after returning it.
        c.expect(b"gat -1 t\r\n", b"VALUE t 3 2\r\nhi\r\nEND\r\n");
        c.expect(b"get t\r\n", b"END\r\n");
        c.expect(b"touch t 10\r\n", b"NOT_FOUND\r\n");
    });
}

#[test]
fn delete() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"set d 0 0 1\r\nx\r\n", b"STORED\r\n");
        c.expect(b"delete d\r\n", b"DELETED\r\n");
        c.expect(b"delete d\r\n", b"NOT_FOUND\r\n");
        c.expect(b"get d\r\n", b"END\r\n");
    });
}

#[test]
fn incr_and_decr() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"incr n 1\r\n", b"NOT_FOUND\r\n");
        c.expect(b"set n 0 0 2\r\n10\r\n", b"STORED\r\n");
        c.expect(b"incr n 5\r\n", b"15\r\n");
        c.expect(b"decr n 100\r\n", b"0\r\n");
        c.expect(b"set n 0 0 20\r\n18446744073709551615\r\n", b"STORED\r\n");
        c.expect(b"incr n 2\r\n", b"1\r\n");
        c.expect(b"set n 0 0 3\r\nabc\r\n", b"STORED\r\n");
        c.expect(
            b"incr n 1\r\n",
            b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        );
        c.expect(
            b"incr n abc\r\n",
            b"CLIENT_ERROR invalid numeric delta argument\r\n",
        );
        c.expect(b"set n 0 0 3\r\n100\r\n", b"STORED\r\n");
        c.expect(b"decr n 1\r\n", b"99\r\n");
        c.expect(b"incr n 1\r\n", b"100\r\n");
        c.expect(b"get n\r\n", b"VALUE n 0 3\r\n100\r\nEND\r\n");
    });
}

#[test]
fn noreply_silences_every_storage_command() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.send(b"set q 0 0 1 noreply\r\nx\r\n");
        c.send(b"add q 0 0 1 noreply\r\ny\r\n");
        c.send(b"replace q 0 0 1 noreply\r\nz\r\n");
        c.send(b"append q 0 0 1 noreply\r\n1\r\n");
        c.send(b"prepend q 0 0 1 noreply\r\n0\r\n");
        c.send(b"incr nothere 1 noreply\r\n");
        c.send(b"touch q 100 noreply\r\n");
        c.expect(b"get q\r\n", b"VALUE q 0 3\r\n0z1\r\nEND\r\n");
        c.send(b"delete q noreply\r\n");
        c.send(b"flush_all noreply\r\n");
        c.send(b"verbosity 1 noreply\r\n");
        c.expect(b"get q\r\n", b"END\r\n");
    });
}

#[test]
fn flush_all_now_and_later() {
    each_thread_count(|server| {
        let mut c = server.connect();
        for shard in 0..2 {
            let key = key_on_shard("f", shard, 2);
            c.expect(
                format!("set {key} 0 0 1\r\nx\r\n").as_bytes(),
                b"STORED\r\n",
            );
        }
        c.expect(b"flush_all 3600\r\n", b"OK\r\n");
        let key = key_on_shard("f", 1, 2);
        c.expect(
            format!("get {key}\r\n").as_bytes(),
            format!("VALUE {key} 0 1\r\nx\r\nEND\r\n").as_bytes(),
        );
        c.expect(b"flush_all\r\n", b"OK\r\n");
        for shard in 0..2 {
            let key = key_on_shard("f", shard, 2);
            c.expect(format!("get {key}\r\n").as_bytes(), b"END\r\n");
        }
        c.expect(b"set after 0 0 1\r\nx\r\n", b"STORED\r\n");
        c.expect(b"get after\r\n", b"VALUE after 0 1\r\nx\r\nEND\r\n");
    });
}

#[test]
fn version_verbosity_and_unknown_commands() {
    let server = Server::start(1);
    let mut c = server.connect();
    c.send(b"version\r\n");
    let version = c.line();
    assert!(version.starts_with("VERSION 1.6."), "{version}");
    c.expect(b"verbosity 1\r\n", b"OK\r\n");
    c.expect(b"bogus\r\n", b"ERROR\r\n");
    c.expect(b"\r\n", b"ERROR\r\n");
    c.expect(b"get\r\n", b"ERROR\r\n");
    c.expect(b"set k 0 0\r\n", b"ERROR\r\n");
    c.expect(b"shutdown\r\n", b"ERROR: shutdown not enabled\r\n");
    // Lines may end with a bare \n.
    c.expect(
        b"set lf 0 0 1\nx\r\nget lf\n",
        b"STORED\r\nVALUE lf 0 1\r\nx\r\nEND\r\n",
    );
}

#[test]
fn bad_command_lines_get_client_errors() {
    let server = Server::start(1);
    let mut c = server.connect();
    let long_key = "k".repeat(251);
    c.expect(
        format!("set {long_key} 0 0 1\r\n").as_bytes(),
        b"CLIENT_ERROR bad command line format\r\n",
    );
    // The data line of the refused set is then read as a command.
    c.expect(b"x\r\n", b"ERROR\r\n");
    c.expect(
        format!("get {long_key}\r\n").as_bytes(),
        b"CLIENT_ERROR bad command line format\r\n",
    );
    let max_key = "k".repeat(250);
    c.expect(
        format!("set {max_key} 0 0 1\r\nx\r\n").as_bytes(),
        b"STORED\r\n",
    );
    c.expect(
        b"set k abc 0 1\r\n",
        b"CLIENT_ERROR bad command line format\r\n",
    );
    c.expect(
        b"set k 0 0 -1\r\n",
        b"CLIENT_ERROR bad command line format\r\n",
    );
    c.expect(
        b"touch k abc\r\n",
        b"CLIENT_ERROR invalid exptime argument\r\n",
    );
    c.expect(
        b"flush_all abc\r\n",
        b"CLIENT_ERROR invalid exptime argument\r\n",
    );
    // A data block not followed by \r\n: the declared length plus two bytes
    // are consumed, and the leftover \r\n reads as an empty command.
    c.expect(
        b"set k 0 0 1\r\nxyz\r\n",
        b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
    );
    c.expect(b"get k\r\n", b"END\r\n");
    // Keys may hold control bytes, as memcached accepts (memaslap's do).
    c.expect(b"set \x10\x11a\tb 0 0 1\r\nx\r\n", b"STORED\r\n");
    c.expect(
        b"get \x10\x11a\tb\r\n",
        b"VALUE \x10\x11a\tb 0 1\r\nx\r\nEND\r\n",
    );
}

#[test]
fn too_large_values_are_swallowed_and_refused() {
    let server = Server::with(Options {
        max_item_size: Some(1024 * 1024),
        ..Options::default()
    });
    let mut c = server.connect();
    c.expect(b"set big 0 0 1\r\nx\r\n", b"STORED\r\n");
    let size = 2 * 1024 * 1024;
    let mut request = format!("set big 0 0 {size}\r\n").into_bytes();
    request.extend(std::iter::repeat_n(b'v', size));
    request.extend_from_slice(b"\r\n");
    c.expect(&request, b"SERVER_ERROR object too large for cache\r\n");
    // memcached also drops the old value of a refused set.
    c.expect(b"get big\r\n", b"END\r\n");
    // The connection is still in step.
    c.expect(b"set ok 0 0 2\r\nok\r\n", b"STORED\r\n");
    let mut fits = format!("set fits 0 0 {}\r\n", 1000 * 1000).into_bytes();
    fits.extend(std::iter::repeat_n(b'f', 1000 * 1000));
    fits.extend_from_slice(b"\r\n");
    c.expect(&fits, b"STORED\r\n");
    c.send(b"get fits\r\n");
    let reply = c.read_until(b"\r\nEND\r\n");
    assert_eq!(
        reply.len(),
        "VALUE fits 0 1000000\r\n".len() + 1000 * 1000 + 7
    );
}

#[test]
fn an_endless_line_closes_the_connection() {
    let server = Server::start(1);
    let mut c = server.connect();
    c.send(&vec![b'x'; 4096]);
    assert!(c.is_closed_by_server());
    // Other clients are unaffected.
    let mut other = server.connect();
    other.expect(b"set k 0 0 1\r\nx\r\n", b"STORED\r\n");
}

#[test]
fn a_long_multiget_line_is_fine() {
    each_thread_count(|server| {
        let mut c = server.connect();
        c.expect(b"set present 0 0 1\r\np\r\n", b"STORED\r\n");
        let mut request = b"get".to_vec();
        for i in 0..2000 {
            request.extend_from_slice(format!(" absent{i}").as_bytes());
        }
        request.extend_from_slice(b" present\r\n");
        assert!(request.len() > 16 * 1024);
        c.expect(&request, b"VALUE present 0 1\r\np\r\nEND\r\n");
    });
}

#[test]
fn multiget_spans_shards_in_key_order() {
    let server = Server::start(2);
    let mut c = server.connect();
    let keys: Vec<String> = (0..6)
        .map(|i| key_on_shard(&format!("m{i}-"), i % 2, 2))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        c.expect(
            format!("set {key} {i} 0 1\r\n{i}\r\n").as_bytes(),
            b"STORED\r\n",
        );
    }
    let mut request = String::from("get");
    let mut expected = String::new();
    for (i, key) in keys.iter().enumerate() {
        request.push_str(&format!(" {key} missing{i}"));
        expected.push_str(&format!("VALUE {key} {i} 1\r\n{i}\r\n"));
    }
    request.push_str("\r\n");
    expected.push_str("END\r\n");
    c.expect(request.as_bytes(), expected.as_bytes());
}

#[test]
fn pipelined_mixed_commands_keep_their_order() {
    each_thread_count(|server| {
        let mut c = server.connect();
        let mut request = Vec::new();
        let mut expected = Vec::new();
        for i in 0..300 {
            let key = format!("p{i}");
            request.extend_from_slice(
                format!("set {key} 0 0 {}\r\n{i}\r\n", i.to_string().len()).as_bytes(),
            );
            expected.extend_from_slice(b"STORED\r\n");
            request.extend_from_slice(format!("get {key} p{}\r\n", i / 2).as_bytes());
            expected.extend_from_slice(
                format!("VALUE {key} 0 {}\r\n{i}\r\n", i.to_string().len()).as_bytes(),
            );
            // Duplicate keys (p0 p0) are answered twice.
            let half = i / 2;
            expected.extend_from_slice(
                format!("VALUE p{half} 0 {}\r\n{half}\r\n", half.to_string().len()).as_bytes(),
            );
            expected.extend_from_slice(b"END\r\n");
            request.extend_from_slice(format!("incr p{i} 1\r\n").as_bytes());
            expected.extend_from_slice(format!("{}\r\n", i + 1).as_bytes());
            request.extend_from_slice(format!("delete p{i}\r\n").as_bytes());
            expected.extend_from_slice(b"DELETED\r\n");
            request.extend_from_slice(
                format!("set p{i} 0 0 {}\r\n{i}\r\n", i.to_string().len()).as_bytes(),
            );
            expected.extend_from_slice(b"STORED\r\n");
        }
        c.expect(&request, &expected);
    });
}

#[test]
fn requests_split_across_packets_parse_the_same() {
    let server = Server::start(2);
    let mut c = server.connect();
    let request = b"set split 0 0 10\r\n0123456789\r\nget split\r\n";
    for chunk in request.chunks(3) {
        c.send(chunk);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(
        c.read_until(b"END\r\n"),
        b"STORED\r\nVALUE split 0 10\r\n0123456789\r\nEND\r\n"
    );
}

#[test]
fn quit_closes_after_earlier_replies() {
    let server = Server::start(1);
    let mut c = server.connect();
    c.send(b"set k 0 0 1\r\nx\r\nget k\r\nquit\r\nget k\r\n");
    assert_eq!(
        c.read_until(b"END\r\n"),
        b"STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"
    );
    assert!(c.is_closed_by_server());
}

#[test]
fn replies_to_a_half_closed_connection_are_still_sent() {
    let server = Server::start(2);
    let mut c = server.connect();
    let key = key_on_shard("hc", 1, 2);
    c.send(format!("set {key} 0 0 1\r\nx\r\nget {key}\r\n").as_bytes());
    c.shutdown_write();
    assert_eq!(
        c.read_until(b"END\r\n"),
        format!("STORED\r\nVALUE {key} 0 1\r\nx\r\nEND\r\n").as_bytes()
    );
    assert!(c.is_closed_by_server());
}

#[test]
fn one_connection_writing_garbage_does_not_affect_another() {
    each_thread_count(|server| {
        let mut bad = server.connect();
        let mut good = server.connect();
        good.expect(b"set g 0 0 1\r\nx\r\n", b"STORED\r\n");
        for garbage in [
            &b"\x00\x01\x02\r\n"[..],
            b"mg\r\n",
            b"ms k\r\n",
            b"ma\r\n",
            b"\xff\xfe\r\n",
        ] {
            bad.send(garbage);
            let reply = bad.line();
            assert!(
                reply == "ERROR\r\n" || reply.starts_with("CLIENT_ERROR "),
                "{garbage:?} got {reply:?}"
            );
            good.expect(b"get g\r\n", b"VALUE g 0 1\r\nx\r\nEND\r\n");
        }
        bad.send(b"version\r\n");
        assert!(bad.line().starts_with("VERSION "));
    });
}
