#!/usr/bin/env bash
# photos_test.sh - profile photos: jpegPhoto published as a file in
# users.photo.directory and sent as its URL, or a URL template with the
# digest filter.  Against slapd and the SCIM server: a dry run writes no
# file; each image is written once, named by its SHA-256; a user is updated
# only when the image changed; images nobody refers to are pruned; an
# attribute that is not an image leaves that user's photo as it is, and
# the rest of the user (a deactivation included) goes on.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

lab_start photos --users 6 --groups 1 --seed 3
cfg="$tmp/l2s.yaml"
pdir="$tmp/photos"
mkdir -p "$pdir"
photo_cfg() {	# the lab's config with users.photo at the end of users
	write_config "$cfg" "$@"
	sed -i "s|^groups:\$|  photo:\n    directory: $pdir\n    url: https://intranet.example.test/photos/\ngroups:|" "$cfg"
}
uids=$(slapd_search "(objectClass=inetOrgPerson)" uid | sed -n 's/^uid: //p' | sort)
u1=$(sed -n 1p <<<"$uids") u2=$(sed -n 2p <<<"$uids") u3=$(sed -n 3p <<<"$uids")
dn() { slapd_search "(uid=$1)" dn | sed -n 's/^dn: //p'; }

# set_photo UID FILE: replace the user's jpegPhoto; FILE "" deletes it
set_photo() {
	if [ -n "$2" ]; then
		printf 'dn: %s\nchangetype: modify\nreplace: jpegPhoto\njpegPhoto:: %s\n' \
		    "$(dn "$1")" "$(base64 -w0 <"$2")" >"$tmp/photo.ldif"
	else
		printf 'dn: %s\nchangetype: modify\ndelete: jpegPhoto\n' "$(dn "$1")" >"$tmp/photo.ldif"
	fi
	slapd_modify "$tmp/photo.ldif"
}
# images: a JPEG and a PNG by their magic bytes, and a GIF
{ printf '\xff\xd8\xff\xe0'; head -c 3000 /dev/urandom; } >"$tmp/a.jpg"
{ printf '\xff\xd8\xff\xe1'; head -c 2000 /dev/urandom; } >"$tmp/b.jpg"
{ printf '\x89PNG\r\n\x1a\n'; head -c 1000 /dev/urandom; } >"$tmp/c.png"
{ printf 'GIF89a'; head -c 500 /dev/urandom; } >"$tmp/d.gif"
sha() { sha256sum "$1" | cut -d' ' -f1; }
set_photo "$u1" "$tmp/a.jpg" && set_photo "$u2" "$tmp/c.png"
ok $? "two users get a photo in jpegPhoto (a JPEG and a PNG)"

photo_of() { scim_dump | jq -r --arg u "$1" '.Users[] | select(.userName == $u) |
    [.photos[]? | select(.type == "photo") | .value] | join(" ")'; }

photo_cfg
l2s_run dry -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "a dry run with users.photo exits 0" || diag "$l2s_stderr"
like "$l2s_stdout" "https://intranet.example.test/photos/$(sha "$tmp/a.jpg").jpg" \
    "the plan shows the JPEG's URL, named by its SHA-256"
is "$(find "$pdir" -type f | wc -l)" 0 "and the dry run writes no file"

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0" || diag "$l2s_stderr"
is "$(photo_of "$u1")" "https://intranet.example.test/photos/$(sha "$tmp/a.jpg").jpg" \
    "the user's SCIM photo is the published URL"
is "$(photo_of "$u2")" "https://intranet.example.test/photos/$(sha "$tmp/c.png").png" \
    "a PNG is published as .png"
is "$(photo_of "$u3")" "" "a user without jpegPhoto has no photo"
cmp -s "$pdir/$(sha "$tmp/a.jpg").jpg" "$tmp/a.jpg"
ok $? "the file holds the image as the directory has it"
is "$(stat -c %a "$pdir/$(sha "$tmp/a.jpg").jpg")" 644 "readable by the web server (0644)"
is "$(find "$pdir" -type f | wc -l)" 2 "two files, nothing else written"

touch -d '2020-01-01' "$pdir"/*
w=$(writes)
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "a second sync exits 0"
is "$(writes)" "$w" "an unchanged photo sends nothing"
is "$(find "$pdir" -type f -newermt '2021-01-01' | wc -l)" 0 "and rewrites no file"

set_photo "$u1" "$tmp/b.jpg"
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 0 "a sync after a photo changed exits 0"
like "$l2s_stderr" "users 0 created, 1 updated" "one user is updated"
is "$(photo_of "$u1")" "https://intranet.example.test/photos/$(sha "$tmp/b.jpg").jpg" \
    "with the new image's URL"
l2s_run sync4 -c "$cfg" sync
ok "$([ ! -e "$pdir/$(sha "$tmp/a.jpg").jpg" ] && echo 0 || echo 1)" \
    "the old image, which no user or state refers to any more, is pruned"
ok "$([ -e "$pdir/$(sha "$tmp/b.jpg").jpg" ] && echo 0 || echo 1)" "the new one stays"
echo keep >"$pdir/index.html"
printf 'x' >"$pdir/$(printf '%064d' 0).jpg.bak"

set_photo "$u3" "$tmp/d.gif"
set_photo "$u2" ""
# u1 gets a GIF and is locked: the deactivation must not wait for a photo
set_photo "$u1" "$tmp/d.gif"
printf 'dn: %s\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n' \
    "$(dn "$u1")" >"$tmp/lock.ldif"
slapd_modify "$tmp/lock.ldif"
l2s_run sync5 -c "$cfg" sync
is "$l2s_rc" 0 "a sync with a GIF in two users' jpegPhoto exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "user '$(dn "$u3")': photo left as it is: .*not a JPEG or PNG image" \
    "the user is named, with the reason"
is "$(photo_of "$u1")" "https://intranet.example.test/photos/$(sha "$tmp/b.jpg").jpg" \
    "a user whose new image is no image keeps the photo the service has"
is "$(scim_dump | jq -r --arg u "$u1" '.Users[] | select(.userName == $u) | .active')" false \
    "and is deactivated all the same (locked in the directory)"
is "$(photo_of "$u2")" "" "a photo removed in the directory is removed from the user"
l2s_run sync6 -c "$cfg" sync
ok "$([ ! -e "$pdir/$(sha "$tmp/c.png").png" ] && echo 0 || echo 1)" \
    "and its file is pruned a cycle later"
ok "$([ -e "$pdir/index.html" ] && [ -e "$pdir/$(printf '%064d' 0).jpg.bak" ] && echo 0 || echo 1)" \
    "files ldap2scim did not name are never touched"

# A photo service that exists: a URL template with the digest filter.
set_photo "$u3" "$tmp/a.jpg"
scim_reset >/dev/null
rm -f "$tmp/state.db"
write_config "$cfg"
sed -i 's|^    title: "{title}"$|    title: "{title}"\n    photos[type eq "photo"].value: "https://photos.example.test/{uid}.jpg?v={jpegPhoto\|digest}"|' "$cfg"
l2s_run tpl1 -c "$cfg" sync
is "$l2s_rc" 0 "a sync with a photo URL template exits 0" || diag "$l2s_stderr"
is "$(photo_of "$u3")" "https://photos.example.test/$u3.jpg?v=$(sha "$tmp/a.jpg" | cut -c1-32)" \
    "the URL carries the first 32 hex digits of the image's SHA-256"
w=$(writes)
l2s_run tpl2 -c "$cfg" sync
is "$(writes)" "$w" "the same image sends nothing"
set_photo "$u3" "$tmp/b.jpg"
l2s_run tpl3 -c "$cfg" sync
like "$l2s_stderr" "users 0 created, 1 updated" "another image updates the user once"
is "$(photo_of "$u3")" "https://photos.example.test/$u3.jpg?v=$(sha "$tmp/b.jpg" | cut -c1-32)" \
    "with the new digest"

# Incremental reads: a cookie the server refuses falls back to a full read,
# which writes the image before its URL is sent.
photo_cfg sync_extra="  incremental: true"
rm -f "$tmp/state.db"
scim_reset >/dev/null
l2s_run inc1 -c "$cfg" sync
is "$l2s_rc" 0 "a first incremental-mode sync with users.photo exits 0" || diag "$l2s_stderr"
{ printf '\xff\xd8\xff\xe0'; head -c 1500 /dev/urandom; } >"$tmp/e.jpg"
set_photo "$u3" "$tmp/e.jpg"
sqlite3 "$tmp/state.db" "update meta set value = 'not-a-cookie' where name = 'incremental.cookie.users'"
l2s_run inc2 -c "$cfg" sync
like "$l2s_stderr" "full read: " "a refused cookie makes a full read"
is "$(photo_of "$u3")" "https://intranet.example.test/photos/$(sha "$tmp/e.jpg").jpg" \
    "the new image's URL is sent"
ok "$([ -e "$pdir/$(sha "$tmp/e.jpg").jpg" ] && echo 0 || echo 1)" "and its file was written"

write_config "$cfg"
sed -i 's|^    title: "{title}"$|    title: "{title}"\n    photos[type eq "photo"].value: "https://photos.example.test/{uid}.jpg?v={jpegPhoto\|digest}"|' "$cfg"
sed -i "s|^groups:\$|  photo:\n    directory: $pdir\n    url: https://x.test/p\ngroups:|" "$cfg"
l2s_run both -c "$cfg" sync --dry-run
is "$l2s_rc" 2 "users.photo beside a mapped photo is a config error"
like "$l2s_stderr" "'users.photo' and a mapped 'photos\[type eq \"photo\"\].value' cannot both be set" \
    "that says why"

tap_done
