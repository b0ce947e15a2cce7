//! The sorted-set commands over real TCP, on one and three shards: the
//! `redis` crate for the commands, raw bytes for exact replies and errors.
//! The expected bytes of [`SCRIPT`] are redis-server 7.0.15's replies to
//! the same requests, recorded from it.

mod common;

use common::{key_on_shard, Server};
use redis::Commands;

/// Encodes a whitespace-split command as a RESP array.
fn request(command: &str) -> Vec<u8> {
    let args: Vec<&str> = command.split_whitespace().collect();
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

const SCRIPT: &[(&str, &[u8])] = &[
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD z 1 a 2 b 3 c", b":3\r\n"),
    ("ZADD z 1.5 a", b":0\r\n"),
    ("ZADD z CH 1.5 a 9 d", b":1\r\n"),
    ("ZADD z NX XX 1 a", b"-ERR XX and NX options at the same time are not compatible\r\n"),
    ("ZADD z GT LT 1 a", b"-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
    ("ZADD z GT NX 1 a", b"-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
    ("ZADD z INCR 1 a 2 b", b"-ERR INCR option supports a single increment-element pair\r\n"),
    ("ZADD z x a", b"-ERR value is not a valid float\r\n"),
    ("ZADD z 1", b"-ERR wrong number of arguments for 'zadd' command\r\n"),
    ("ZADD z", b"-ERR wrong number of arguments for 'zadd' command\r\n"),
    ("ZADD z nan a", b"-ERR value is not a valid float\r\n"),
    ("ZADD z INCR 1 a", b"$3\r\n2.5\r\n"),
    ("ZADD z INCR NX 1 a", b"$-1\r\n"),
    ("ZADD z XX 5 new", b":0\r\n"),
    ("ZADD z GT CH 0 a 100 b", b":1\r\n"),
    ("ZADD z LT CH 0 a 100 c", b":1\r\n"),
    ("ZADD z inf i -inf j", b":2\r\n"),
    ("ZADD z INCR -inf i", b"-ERR resulting score is not a number (NaN)\r\n"),
    ("ZADD z 0.1 p 1e300 q 123456789012345678 r", b":3\r\n"),
    ("ZRANGE z 0 -1 WITHSCORES", b"*18\r\n$1\r\nj\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\np\r\n$19\r\n0.10000000000000001\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n9\r\n$1\r\nb\r\n$3\r\n100\r\n$1\r\nr\r\n$22\r\n1.2345678901234568e+17\r\n$1\r\nq\r\n$23\r\n1.0000000000000001e+300\r\n$1\r\ni\r\n$3\r\ninf\r\n"),
    ("ZINCRBY z 2 a", b"$1\r\n2\r\n"),
    ("ZINCRBY z x a", b"-ERR value is not a valid float\r\n"),
    ("ZINCRBY z 1 new", b"$1\r\n1\r\n"),
    ("ZSCORE z a", b"$1\r\n2\r\n"),
    ("ZSCORE z nope", b"$-1\r\n"),
    ("ZSCORE nokey a", b"$-1\r\n"),
    ("ZMSCORE z a nope b", b"*3\r\n$1\r\n2\r\n$-1\r\n$3\r\n100\r\n"),
    ("ZCARD z", b":10\r\n"),
    ("ZCARD nokey", b":0\r\n"),
    ("ZRANK z a", b":3\r\n"),
    ("ZRANK z nope", b"$-1\r\n"),
    ("ZREVRANK z a", b":6\r\n"),
    ("ZCOUNT z -inf +inf", b":10\r\n"),
    ("ZCOUNT z (1 3", b":2\r\n"),
    ("ZCOUNT z x 3", b"-ERR min or max is not a float\r\n"),
    ("ZCOUNT z (x 3", b"-ERR min or max is not a float\r\n"),
    ("ZRANGE z 0 2", b"*3\r\n$1\r\nj\r\n$1\r\np\r\n$3\r\nnew\r\n"),
    ("ZRANGE z -2 -1 WITHSCORES", b"*4\r\n$1\r\nq\r\n$23\r\n1.0000000000000001e+300\r\n$1\r\ni\r\n$3\r\ninf\r\n"),
    ("ZRANGE z 5 1", b"*0\r\n"),
    ("ZRANGE z 0 -1 REV", b"*10\r\n$1\r\ni\r\n$1\r\nq\r\n$1\r\nr\r\n$1\r\nb\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\na\r\n$3\r\nnew\r\n$1\r\np\r\n$1\r\nj\r\n"),
    ("ZRANGE z 0 -1 LIMIT 0 1", b"-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
    ("ZRANGE z 0 -1 LIMIT 0 -1", b"*10\r\n$1\r\nj\r\n$1\r\np\r\n$3\r\nnew\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\nr\r\n$1\r\nq\r\n$1\r\ni\r\n"),
    ("ZRANGE z (1 5 BYSCORE WITHSCORES", b"*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("ZRANGE z 5 (1 BYSCORE REV WITHSCORES", b"*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n"),
    ("ZRANGE z -inf +inf BYSCORE LIMIT 1 2", b"*2\r\n$1\r\np\r\n$3\r\nnew\r\n"),
    ("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2", b"*2\r\n$1\r\nq\r\n$1\r\nr\r\n"),
    ("ZRANGE z -inf +inf BYSCORE LIMIT -1 2", b"*0\r\n"),
    ("ZRANGE z -inf +inf BYSCORE LIMIT 0 0", b"*0\r\n"),
    ("ZRANGE z - + BYLEX", b"*10\r\n$1\r\nj\r\n$1\r\np\r\n$3\r\nnew\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\nr\r\n$1\r\nq\r\n$1\r\ni\r\n"),
    ("ZRANGE z - + BYLEX WITHSCORES", b"-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
    ("ZRANGE z 0 1 BYSCORE BYLEX", b"-ERR syntax error\r\n"),
    ("ZRANGE z 0 1 REV REV", b"-ERR syntax error\r\n"),
    ("ZRANGE z 0 1 foo", b"-ERR syntax error\r\n"),
    ("ZRANGE z a b", b"-ERR value is not an integer or out of range\r\n"),
    ("ZRANGE z 0 1 LIMIT", b"-ERR syntax error\r\n"),
    ("ZRANGE z 0 1 BYSCORE LIMIT x 1", b"-ERR value is not an integer or out of range\r\n"),
    ("ZRANGE nokey 0 -1", b"*0\r\n"),
    ("ZREVRANGE z 0 1 WITHSCORES", b"*4\r\n$1\r\ni\r\n$3\r\ninf\r\n$1\r\nq\r\n$23\r\n1.0000000000000001e+300\r\n"),
    ("ZREVRANGE z 0 1 BYSCORE", b"-ERR syntax error\r\n"),
    ("ZRANGEBYSCORE z 1 3 WITHSCORES", b"*6\r\n$3\r\nnew\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("ZRANGEBYSCORE z 1 3 LIMIT 1 1", b"*1\r\n$1\r\na\r\n"),
    ("ZRANGEBYSCORE z 1 3 BYSCORE", b"-ERR syntax error\r\n"),
    ("ZREVRANGEBYSCORE z 3 1 WITHSCORES", b"*6\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n$3\r\nnew\r\n$1\r\n1\r\n"),
    ("ZREVRANGEBYSCORE z 1 3", b"*0\r\n"),
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD l 0 a 0 b 0 c 0 d 0 e", b":5\r\n"),
    ("ZRANGEBYLEX l - +", b"*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
    ("ZRANGEBYLEX l [b (d", b"*2\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    ("ZRANGEBYLEX l (b [d LIMIT 1 5", b"*1\r\n$1\r\nd\r\n"),
    ("ZREVRANGEBYLEX l + -", b"*5\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
    ("ZREVRANGEBYLEX l [d (a LIMIT 0 2", b"*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
    ("ZRANGEBYLEX l b d", b"-ERR min or max not valid string range item\r\n"),
    ("ZRANGEBYLEX l [b d", b"-ERR min or max not valid string range item\r\n"),
    ("ZRANGEBYLEX l [b [d WITHSCORES", b"-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
    ("ZLEXCOUNT l - +", b":5\r\n"),
    ("ZLEXCOUNT l [b (d", b":2\r\n"),
    ("ZLEXCOUNT l + -", b":0\r\n"),
    ("ZLEXCOUNT l b c", b"-ERR min or max not valid string range item\r\n"),
    ("ZREM l a x", b":1\r\n"),
    ("ZREM nokey a", b":0\r\n"),
    ("ZPOPMIN l", b"*2\r\n$1\r\nb\r\n$1\r\n0\r\n"),
    ("ZPOPMAX l 2", b"*4\r\n$1\r\ne\r\n$1\r\n0\r\n$1\r\nd\r\n$1\r\n0\r\n"),
    ("ZPOPMIN l 0", b"*0\r\n"),
    ("ZPOPMIN l -1", b"-ERR value is out of range, must be positive\r\n"),
    ("ZPOPMIN l x", b"-ERR value is out of range, must be positive\r\n"),
    ("ZPOPMIN l 1 2", b"-ERR syntax error\r\n"),
    ("ZPOPMIN nokey", b"*0\r\n"),
    ("ZPOPMIN nokey 3", b"*0\r\n"),
    ("ZPOPMAX l 10", b"*2\r\n$1\r\nc\r\n$1\r\n0\r\n"),
    ("EXISTS l", b":0\r\n"),
    ("ZADD r 1 a 2 b 3 c 4 d 5 e 6 f", b":6\r\n"),
    ("ZREMRANGEBYRANK r 0 0", b":1\r\n"),
    ("ZREMRANGEBYRANK r -1 -1", b":1\r\n"),
    ("ZREMRANGEBYSCORE r (2 3", b":1\r\n"),
    ("ZREMRANGEBYSCORE r x 3", b"-ERR min or max is not a float\r\n"),
    ("ZREMRANGEBYLEX r - (d", b":1\r\n"),
    ("ZREMRANGEBYLEX r d e", b"-ERR min or max not valid string range item\r\n"),
    ("ZRANGE r 0 -1 WITHSCORES", b"*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
    ("OBJECT ENCODING r", b"$8\r\nlistpack\r\n"),
    ("TYPE r", b"+zset\r\n"),
    ("SET s x", b"+OK\r\n"),
    ("ZADD s 1 a", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZRANGE s 0 -1", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZCARD s", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZADD r x", b"-ERR wrong number of arguments for 'zadd' command\r\n"),
    ("ZADD e1 -0 a", b":1\r\n"),
    ("ZSCORE e1 a", b"$1\r\n0\r\n"),
    ("ZADD e2 0.1 a 3.0 b 1e20 c 1.7976931348623157e308 d 2.2250738585072014e-308 e", b":5\r\n"),
    ("ZRANGE e2 0 -1 WITHSCORES", b"*10\r\n$1\r\ne\r\n$23\r\n2.2250738585072014e-308\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$5\r\n1e+20\r\n$1\r\nd\r\n$23\r\n1.7976931348623157e+308\r\n"),
    ("ZRANGE e2 0 1 WITHSCORES", b"*4\r\n$1\r\ne\r\n$23\r\n2.2250738585072014e-308\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n"),
    ("ZSCORE e2 a", b"$19\r\n0.10000000000000001\r\n"),
    ("ZPOPMIN e2", b"*2\r\n$1\r\ne\r\n$23\r\n2.2250738585072014e-308\r\n"),
    ("ZPOPMIN e2 2", b"*4\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n$1\r\n3\r\n"),
    ("ZADD e2 INCR 1 zz", b"$1\r\n1\r\n"),
    ("ZMSCORE e2 zz none", b"*2\r\n$1\r\n1\r\n$-1\r\n"),
    ("ZRANGE e2 0 -1 BYSCORE WITHSCORES", b"*0\r\n"),
    ("HELLO 3", b""),
    ("ZADD h3 1 a 2.5 b", b":2\r\n"),
    ("ZRANGE h3 0 -1 WITHSCORES", b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"),
    ("ZSCORE h3 b", b",2.5\r\n"),
    ("ZINCRBY h3 1 a", b",2\r\n"),
    ("ZADD h3 INCR 1 a", b",3\r\n"),
    ("ZADD h3 INCR NX 1 a", b"_\r\n"),
    ("ZMSCORE h3 a nope", b"*2\r\n,3\r\n_\r\n"),
    ("ZPOPMIN h3", b"*2\r\n$1\r\nb\r\n,2.5\r\n"),
    ("ZPOPMAX h3 2", b"*1\r\n*2\r\n$1\r\na\r\n,3\r\n"),
    ("ZRANGEBYSCORE h3 -inf +inf WITHSCORES", b"*0\r\n"),
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD q 0.1 a 3 b 1e20 c", b":3\r\n"),
    ("ZRANDMEMBER q 10", b"*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
    ("ZRANDMEMBER q 10 WITHSCORES", b"*3\r\n*2\r\n$1\r\nc\r\n,1e+20\r\n*2\r\n$1\r\nb\r\n,3\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n"),
    ("ZRANDMEMBER q 3 WITHSCORES", b"*3\r\n*2\r\n$1\r\nc\r\n,1e+20\r\n*2\r\n$1\r\nb\r\n,3\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n"),
    ("ZRANDMEMBER q 0", b"*0\r\n"),
    ("ZRANDMEMBER q -9223372036854775808", b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
    ("ZRANDMEMBER q -9223372036854775807 WITHSCORES", b"-ERR value is out of range\r\n"),
    ("ZRANDMEMBER q x", b"-ERR value is not an integer or out of range\r\n"),
    ("ZRANDMEMBER q 1 WITHSCORES x", b"-ERR syntax error\r\n"),
    ("ZRANDMEMBER q 1 foo", b"-ERR syntax error\r\n"),
    ("ZRANDMEMBER nokey", b"_\r\n"),
    ("ZRANDMEMBER nokey 3", b"*0\r\n"),
    ("ZSCAN q 0", b"*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$5\r\n1e+20\r\n"),
    ("ZSCAN q 0 MATCH a*", b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n"),
    ("ZSCAN q x", b"-ERR invalid cursor\r\n"),
    ("ZSCAN nokey 0", b"*2\r\n$1\r\n0\r\n*0\r\n"),
    ("ZSCAN q 0 COUNT 0", b"-ERR syntax error\r\n"),
    ("HELLO 3", b""),
    ("ZRANDMEMBER q 10 WITHSCORES", b"*3\r\n*2\r\n$1\r\nc\r\n,1e+20\r\n*2\r\n$1\r\nb\r\n,3\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n"),
    ("ZSCAN q 0", b"*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$5\r\n1e+20\r\n"),
];

/// Multi-key requests (their keys are on one shard only with one thread),
/// with redis-server 7.0.15's replies.
const MULTI_KEY_SCRIPT: &[(&str, &[u8])] = &[
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD a 1 x 2 y 3 z", b":3\r\n"),
    ("ZADD b 10 y 20 z 30 w", b":3\r\n"),
    ("SADD s y q", b":2\r\n"),
    ("SET str v", b"+OK\r\n"),
    ("ZUNION 2 a b WITHSCORES", b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
    ("ZUNION 2 a b", b"*4\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n"),
    ("ZUNION 3 a b s WITHSCORES", b"*10\r\n$1\r\nq\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n13\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
    ("ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES", b"*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n9\r\n$1\r\nw\r\n$2\r\n15\r\n$1\r\nz\r\n$2\r\n16\r\n"),
    ("ZUNION 2 a b AGGREGATE MIN WITHSCORES", b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\nw\r\n$2\r\n30\r\n"),
    ("ZUNION 2 a b AGGREGATE MAX WITHSCORES", b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n$1\r\nw\r\n$2\r\n30\r\n"),
    ("ZUNION 2 a b AGGREGATE foo", b"-ERR syntax error\r\n"),
    ("ZUNION 2 a b WEIGHTS 1", b"-ERR syntax error\r\n"),
    ("ZUNION 2 a b WEIGHTS 1 x", b"-ERR weight value is not a float\r\n"),
    ("ZUNION 0 a", b"-ERR at least 1 input key is needed for 'zunion' command\r\n"),
    ("ZUNION -1 a", b"-ERR at least 1 input key is needed for 'zunion' command\r\n"),
    ("ZUNION x a", b"-ERR value is not an integer or out of range\r\n"),
    ("ZUNION 3 a b", b"-ERR syntax error\r\n"),
    ("ZUNION 2 a str", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZUNION 2 a nokey WITHSCORES", b"*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"),
    ("ZINTER 2 a b WITHSCORES", b"*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n"),
    ("ZINTER 2 a b WEIGHTS 1 -1 AGGREGATE SUM WITHSCORES", b"*4\r\n$1\r\nz\r\n$3\r\n-17\r\n$1\r\ny\r\n$2\r\n-8\r\n"),
    ("ZINTER 2 a nokey", b"*0\r\n"),
    ("ZINTER 3 a b s WITHSCORES", b"*2\r\n$1\r\ny\r\n$2\r\n13\r\n"),
    ("ZDIFF 2 a b WITHSCORES", b"*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
    ("ZDIFF 2 b a", b"*1\r\n$1\r\nw\r\n"),
    ("ZDIFF 2 a b WEIGHTS 1 1", b"-ERR syntax error\r\n"),
    ("ZDIFF 2 a b AGGREGATE SUM", b"-ERR syntax error\r\n"),
    ("ZDIFF 0 a", b"-ERR at least 1 input key is needed for 'zdiff' command\r\n"),
    ("ZUNIONSTORE d 2 a b", b":4\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
    ("ZINTERSTORE d 2 a b WEIGHTS 2 3", b":2\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*4\r\n$1\r\ny\r\n$2\r\n34\r\n$1\r\nz\r\n$2\r\n66\r\n"),
    ("ZDIFFSTORE d 2 a b", b":1\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
    ("ZINTERSTORE d 2 a nokey", b":0\r\n"),
    ("EXISTS d", b":0\r\n"),
    ("ZUNIONSTORE d 2 a b WITHSCORES", b"-ERR syntax error\r\n"),
    ("ZUNIONSTORE d 0 a", b"-ERR at least 1 input key is needed for 'zunionstore' command\r\n"),
    ("ZINTERCARD 2 a b", b":2\r\n"),
    ("ZINTERCARD 2 a b LIMIT 1", b":1\r\n"),
    ("ZINTERCARD 2 a b LIMIT 0", b":2\r\n"),
    ("ZINTERCARD 2 a b LIMIT -1", b"-ERR LIMIT can't be negative\r\n"),
    ("ZINTERCARD 0 a", b"-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
    ("ZINTERCARD 3 a b", b"-ERR syntax error\r\n"),
    ("ZINTERCARD 2 a b foo", b"-ERR syntax error\r\n"),
    ("ZINTERCARD 2 a str", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZADD i1 inf m", b":1\r\n"),
    ("ZADD i2 -inf m", b":1\r\n"),
    ("ZUNION 2 i1 i2 WITHSCORES", b"*2\r\n$1\r\nm\r\n$1\r\n0\r\n"),
    ("ZUNION 2 i1 i2 WEIGHTS 0 1 WITHSCORES", b"*2\r\n$1\r\nm\r\n$4\r\n-inf\r\n"),
    ("HELLO 3", b""),
    ("ZUNION 2 a b WITHSCORES", b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD a 1 x 2 y 3 z 4 w", b":4\r\n"),
    ("ZRANGESTORE d a 0 1", b":2\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*2\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,2\r\n"),
    ("ZRANGESTORE d a (1 +inf BYSCORE LIMIT 1 1", b":1\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*1\r\n*2\r\n$1\r\nz\r\n,3\r\n"),
    ("ZRANGESTORE d a +inf -inf BYSCORE REV", b":4\r\n"),
    ("ZRANGE d 0 -1 WITHSCORES", b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nz\r\n,3\r\n*2\r\n$1\r\nw\r\n,4\r\n"),
    ("ZRANGESTORE d a 0 1 WITHSCORES", b"-ERR syntax error\r\n"),
    ("ZRANGESTORE d a 5 10", b":0\r\n"),
    ("EXISTS d", b":0\r\n"),
    ("ZRANGESTORE d a 0 1", b":2\r\n"),
    ("ZRANGESTORE d nokey 0 1", b":0\r\n"),
    ("EXISTS d", b":0\r\n"),
    ("ZRANGESTORE d a - + BYLEX", b":4\r\n"),
    ("ZRANGESTORE d a x y", b"-ERR value is not an integer or out of range\r\n"),
    ("FLUSHALL", b"+OK\r\n"),
    ("ZADD a 1 x 2 y 3 z", b":3\r\n"),
    ("SET str v", b"+OK\r\n"),
    ("ZMPOP 1 a MIN", b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"),
    ("ZMPOP 2 nokey a MAX COUNT 5", b"*2\r\n$1\r\na\r\n*2\r\n*2\r\n$1\r\nz\r\n,3\r\n*2\r\n$1\r\ny\r\n,2\r\n"),
    ("EXISTS a", b":0\r\n"),
    ("ZMPOP 1 a MIN", b"_\r\n"),
    ("ZMPOP 0 a MIN", b"-ERR numkeys should be greater than 0\r\n"),
    ("ZMPOP x a MIN", b"-ERR numkeys should be greater than 0\r\n"),
    ("ZMPOP 2 a MIN", b"-ERR syntax error\r\n"),
    ("ZMPOP 1 a FOO", b"-ERR syntax error\r\n"),
    ("ZMPOP 1 a MIN COUNT 0", b"-ERR count should be greater than 0\r\n"),
    ("ZMPOP 1 a MIN COUNT x", b"-ERR count should be greater than 0\r\n"),
    ("ZMPOP 1 a MIN COUNT 1 COUNT 2", b"-ERR syntax error\r\n"),
    ("ZMPOP 1 a MIN COUNT", b"-ERR syntax error\r\n"),
    ("ZMPOP 1 str MIN", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("ZADD b 1.5 m", b":1\r\n"),
    ("HELLO 3", b""),
    ("ZMPOP 1 b MAX", b"*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n"),
    ("ZMPOP 1 b MAX", b"_\r\n"),
];

/// Sends each request of `script` and checks the reply bytes.
fn run(conn: &mut common::Conn, script: &[(&str, &[u8])]) {
    for (command, expected) in script {
        if command.starts_with("HELLO") {
            // The connection id differs; only the protocol matters.
            conn.send(&request(command));
            conn.read_until(b"modules\r\n*0\r\n");
            continue;
        }
        conn.expect(&request(command), expected);
    }
}

#[test]
fn multi_key_sorted_set_replies_are_redis_bytes() {
    let server = Server::start_resp(1);
    run(&mut server.connect_resp(), MULTI_KEY_SCRIPT);
}

#[test]
fn multi_key_sorted_set_commands_read_keys_on_several_shards() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut conn = server.connect_resp();
    let (a, b) = (key_on_shard("a", 0, shards), key_on_shard("b", 1, shards));
    conn.expect(&request(&format!("ZADD {a} 1 x 2 y")), b":2\r\n");
    conn.expect(&request(&format!("ZADD {b} 5 y")), b":1\r\n");
    for (command, reply) in [
        (
            format!("ZUNION 2 {a} {b}"),
            "*2\r\n$1\r\nx\r\n$1\r\ny\r\n".to_string(),
        ),
        (format!("ZINTERCARD 2 {a} {b}"), ":1\r\n".into()),
        (format!("ZINTERSTORE {a} 2 {a} {b}"), ":1\r\n".into()),
        (format!("ZSCORE {a} y"), "$1\r\n7\r\n".into()),
        (format!("ZDIFFSTORE {b} 1 {a}"), ":1\r\n".into()),
        (format!("ZRANGESTORE {a} {b} 0 -1"), ":1\r\n".into()),
        (
            format!("ZMPOP 2 {a} {b} MIN"),
            format!(
                "*2\r\n${}\r\n{a}\r\n*1\r\n*2\r\n$1\r\ny\r\n$1\r\n7\r\n",
                a.len()
            ),
        ),
        (format!("EXISTS {a} {b}"), ":1\r\n".into()),
    ] {
        conn.expect(&request(&command), reply.as_bytes());
    }
}

#[test]
fn sorted_set_replies_and_errors_are_redis_bytes() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        let mut conn = server.connect_resp();
        run(&mut conn, SCRIPT);
    }
}

#[test]
fn sorted_set_commands_through_the_redis_crate() {
    for threads in [1, 4] {
        let server = Server::start_resp(threads);
        for protocol in [2, 3] {
            let mut redis = server.redis(protocol);
            let key = format!("z{threads}{protocol}");
            let added: i64 = redis
                .zadd_multiple(&key, &[(2, "b"), (1, "a"), (3, "c")])
                .unwrap();
            assert_eq!(added, 3);
            let all: Vec<(String, f64)> = redis.zrange_withscores(&key, 0, -1).unwrap();
            assert_eq!(
                all,
                [("a".into(), 1.0), ("b".into(), 2.0), ("c".into(), 3.0)]
            );
            let score: f64 = redis.zincr(&key, "a", 2.5).unwrap();
            assert_eq!(score, 3.5);
            let rank: Option<usize> = redis.zrank(&key, "a").unwrap();
            assert_eq!(rank, Some(2));
            let rank: Option<usize> = redis.zrevrank(&key, "a").unwrap();
            assert_eq!(rank, Some(0));
            let members: Vec<String> = redis.zrangebyscore(&key, "(2", "+inf").unwrap();
            assert_eq!(members, ["c", "a"]);
            let count: usize = redis.zcount(&key, 2, 3).unwrap();
            assert_eq!(count, 2);
            let removed: usize = redis.zrem(&key, &["b", "nope"]).unwrap();
            assert_eq!(removed, 1);
            let card: usize = redis.zcard(&key).unwrap();
            assert_eq!(card, 2);
            let missing: Option<f64> = redis.zscore(&key, "b").unwrap();
            assert_eq!(missing, None);
            let kind: String = redis::cmd("TYPE").arg(&key).query(&mut redis).unwrap();
            assert_eq!(kind, "zset");
            let _: () = redis.del(&key).unwrap();
        }
    }
}

#[test]
fn a_sorted_set_converts_to_a_skiplist_past_its_limits() {
    let server = Server::start_resp(1);
    let mut redis = server.redis(2);
    let encoding = |redis: &mut redis::Connection, key: &str| -> String {
        redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(key)
            .query(redis)
            .unwrap()
    };
    let limit: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("zset-max-listpack-entries")
        .query(&mut redis)
        .unwrap();
    assert_eq!(limit, ["zset-max-listpack-entries", "128"]);
    for n in 0..128 {
        let _: i64 = redis.zadd("big", format!("m{n:03}"), n).unwrap();
    }
    assert_eq!(encoding(&mut redis, "big"), "listpack");
    let _: i64 = redis.zadd("big", "m128", 128).unwrap();
    assert_eq!(encoding(&mut redis, "big"), "skiplist");
    let range: Vec<String> = redis.zrange("big", 100, 101).unwrap();
    assert_eq!(range, ["m100", "m101"]);
    let _: i64 = redis.zadd("long", "x".repeat(65), 1).unwrap();
    assert_eq!(encoding(&mut redis, "long"), "skiplist");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("zset-max-listpack-value")
        .arg("100")
        .query(&mut redis)
        .unwrap();
    let _: i64 = redis.zadd("long2", "x".repeat(65), 1).unwrap();
    assert_eq!(encoding(&mut redis, "long2"), "listpack");
    // A skiplist stays one when it moves, as in Redis.
    let _: () = redis.rename("long", "long3").unwrap();
    assert_eq!(encoding(&mut redis, "long3"), "skiplist");
}

#[test]
fn sorted_sets_move_between_shards_and_a_string_command_refuses_them() {
    let shards = 3;
    let server = Server::start_resp(shards);
    let mut redis = server.redis(3);
    let source = key_on_shard("src", 0, shards);
    let destination = key_on_shard("dst", 2, shards);
    let _: i64 = redis
        .zadd_multiple(&source, &[(1.5, "a"), (f64::INFINITY, "b")])
        .unwrap();
    let _: () = redis.rename(&source, &destination).unwrap();
    let all: Vec<(String, f64)> = redis.zrange_withscores(&destination, 0, -1).unwrap();
    assert_eq!(all, [("a".into(), 1.5), ("b".into(), f64::INFINITY)]);
    let error = redis.get::<_, String>(&destination).unwrap_err();
    assert_eq!(error.code(), Some("WRONGTYPE"));
}

/// `ZRANK`/`ZREVRANK … WITHSCORE`, the option Redis 7.2 added (7.0.15,
/// the Debian peer, does not have it): the rank and the score, a nil array
/// for an absent member, Redis 7.2's errors for a wrong option or count.
const WITHSCORE_SCRIPT: &[(&str, &[u8])] = &[
    ("ZADD w 1 a 2.5 b 3 c", b":3\r\n"),
    ("ZRANK w b WITHSCORE", b"*2\r\n:1\r\n$3\r\n2.5\r\n"),
    ("ZREVRANK w a withscore", b"*2\r\n:2\r\n$1\r\n1\r\n"),
    ("ZRANK w nope WITHSCORE", b"*-1\r\n"),
    ("ZRANK nokey a WITHSCORE", b"*-1\r\n"),
    ("ZRANK w a WITHSCORES", b"-ERR syntax error\r\n"),
    (
        "ZRANK w a WITHSCORE x",
        b"-ERR wrong number of arguments for 'zrank' command\r\n",
    ),
    (
        "ZRANK w",
        b"-ERR wrong number of arguments for 'zrank' command\r\n",
    ),
    ("SET s x", b"+OK\r\n"),
    (
        "ZRANK s a WITHSCORE",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    ("HELLO 3", b""),
    ("ZREVRANK w c WITHSCORE", b"*2\r\n:0\r\n,3\r\n"),
    ("ZRANK w nope WITHSCORE", b"_\r\n"),
    ("ZRANK w nope", b"_\r\n"),
];

#[test]
fn zrank_withscore_replies_the_rank_and_the_score() {
    let server = Server::start_resp(1);
    run(&mut server.connect_resp(), WITHSCORE_SCRIPT);
}
