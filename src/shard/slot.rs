//! Key → hash slot → shard, exactly as Redis Cluster maps keys to slots:
//! CRC16 (XMODEM) of the key, or of its `{hash tag}`, mod 16384.
//!
//! Keys that share a hash tag share a slot and therefore a shard, so work on
//! them needs no cross-core hop; the same slot numbers later span nodes in
//! cluster mode.

/// Number of hash slots, as in Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// A Redis Cluster hash slot, `0..16384`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashSlot(u16);

impl HashSlot {
    /// The slot of `key`: CRC16 of the hash tag if the key has a non-empty
    /// one (the bytes between the first `{` and the first `}` after it),
    /// else of the whole key.
    pub fn of(key: &[u8]) -> HashSlot {
        HashSlot(crc16(hash_tag(key)) % SLOT_COUNT)
    }

    /// The slot with this number (taken mod 16384).
    pub fn of_number(slot: u16) -> HashSlot {
        HashSlot(slot % SLOT_COUNT)
    }

    /// The slot number.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// The part of `key` that is hashed: its `{tag}` when present and non-empty.
fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = memchr::memchr(b'{', key) else {
        return key;
    };
    match memchr::memchr(b'}', &key[open + 1..]) {
        Some(len) if len > 0 => &key[open + 1..open + 1 + len],
        _ => key,
    }
}

/// CRC16/XMODEM (polynomial 0x1021, initial value 0), table-driven.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_xmodem_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn slots_match_redis_cluster() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(HashSlot::of(b"foo").get(), 12182);
        assert_eq!(HashSlot::of(b"bar").get(), 5061);
        assert_eq!(HashSlot::of(b"hello").get(), 866);
        assert_eq!(HashSlot::of(b"").get(), 0);
    }

    #[test]
    fn hash_tags_follow_the_redis_rules() {
        let user = HashSlot::of(b"user1000");
        assert_eq!(HashSlot::of(b"{user1000}.following"), user);
        assert_eq!(HashSlot::of(b"{user1000}.followers"), user);
        // Only the first `{` counts, up to the first `}` after it.
        assert_eq!(HashSlot::of(b"foo{bar}{zap}"), HashSlot::of(b"bar"));
        assert_eq!(HashSlot::of(b"foo{{bar}}zap"), HashSlot::of(b"{bar"));
        // An empty tag or an unclosed brace hashes the whole key.
        assert_eq!(
            HashSlot::of(b"foo{}{bar}").get(),
            crc16(b"foo{}{bar}") % SLOT_COUNT
        );
        assert_eq!(
            HashSlot::of(b"foo{bar").get(),
            crc16(b"foo{bar") % SLOT_COUNT
        );
    }
}
