//! What the Log tab shows of secrets.

use netdeck::report::mask_credentials;

#[test]
fn credentials_are_masked_in_log_lines() {
    let line = r"127.0.0.1:5 > GET / HTTP/1.1\r\nauthorization: Bearer abc\r\nCookie: a=1; b=2\r\nProxy-Authorization: Basic eDp5\r\nHost: y\r\n\r\n";
    assert_eq!(
        mask_credentials(line),
        r"127.0.0.1:5 > GET / HTTP/1.1\r\nauthorization: ***\r\nCookie: ***\r\nProxy-Authorization: ***\r\nHost: y\r\n\r\n"
    );
    assert_eq!(
        mask_credentials("Authorization: at the end"),
        "Authorization: ***"
    );
    assert_eq!(
        mask_credentials("nothing secret here"),
        "nothing secret here"
    );
    assert_eq!(mask_credentials(r"Cookie:\r\nnext"), r"Cookie:\r\nnext");
}
