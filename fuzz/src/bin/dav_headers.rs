//! AFL++ target `dav_headers`: see `tandem_fuzz::dav_headers`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::dav_headers(data);
    });
}
