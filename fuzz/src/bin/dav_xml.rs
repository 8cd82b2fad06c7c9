//! AFL++ target `dav_xml`: see `tandem_fuzz::dav_xml`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::dav_xml(data);
    });
}
