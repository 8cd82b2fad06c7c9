//! AFL++ target `vcard`: see `tandem_fuzz::vcard`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::vcard(data);
    });
}
