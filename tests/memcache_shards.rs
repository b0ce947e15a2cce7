//! Many clients at once over keys on every shard: cross-core requests,
//! batched over the channel mesh, must answer every request, in order, with
//! the right value — including when a client pipelines deeply and when
//! shards outnumber cores.

mod common;

use common::{key_on_shard, Server};

/// Each client pipelines rounds of sets and multi-gets over keys spread on
/// every shard, then checks the exact bytes of every reply.
fn hammer(threads: usize, clients: usize, rounds: usize) {
    let server = Server::start(threads);
    let port = server.port;
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            std::thread::spawn(move || {
                let keys: Vec<String> = (0..threads * 3)
                    .map(|i| key_on_shard(&format!("c{client}k{i}-"), i % threads, threads))
                    .collect();
                let mut conn = common::Conn::connect_to(port);
                for round in 0..rounds {
                    let mut request = Vec::new();
                    let mut expected = Vec::new();
                    for (i, key) in keys.iter().enumerate() {
                        let value = format!("{client}.{round}.{i}");
                        request.extend_from_slice(
                            format!("set {key} {i} 0 {}\r\n{value}\r\n", value.len()).as_bytes(),
                        );
                        expected.extend_from_slice(b"STORED\r\n");
                    }
                    request.extend_from_slice(format!("get {}\r\n", keys.join(" ")).as_bytes());
                    for (i, key) in keys.iter().enumerate() {
                        let value = format!("{client}.{round}.{i}");
                        expected.extend_from_slice(
                            format!("VALUE {key} {i} {}\r\n{value}\r\n", value.len()).as_bytes(),
                        );
                    }
                    expected.extend_from_slice(b"END\r\n");
                    conn.expect(&request, &expected);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a client saw a wrong reply");
    }
}

#[test]
fn two_shards_many_clients() {
    hammer(2, 8, 200);
}

#[test]
fn more_shards_than_cores() {
    hammer(3, 6, 100);
}

#[test]
fn a_deep_pipeline_across_shards_stays_in_order() {
    let server = Server::start(2);
    let mut c = server.connect();
    let keys: Vec<String> = (0..4).map(|i| key_on_shard("deep", i % 2, 2)).collect();
    for key in &keys {
        c.expect(
            format!("set {key} 0 0 1\r\nx\r\n").as_bytes(),
            b"STORED\r\n",
        );
    }
    // Far more requests than a mesh channel holds messages for, in one write.
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..20_000 {
        let key = &keys[i % keys.len()];
        request.extend_from_slice(format!("get {key}\r\nincr n{} 1\r\n", i % 3).as_bytes());
        expected
            .extend_from_slice(format!("VALUE {key} 0 1\r\nx\r\nEND\r\nNOT_FOUND\r\n").as_bytes());
    }
    let writer = {
        let mut w = c.try_clone();
        std::thread::spawn(move || w.send(&request))
    };
    let reply = c.read_exact(expected.len());
    writer.join().unwrap();
    assert!(reply == expected, "replies differ from request order");
}
