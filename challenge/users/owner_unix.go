//go:build unix

package users

import (
	"fmt"
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of the file st describes; a
// rewrite that cannot keep them is refused.
func keepOwner(f *os.File, st os.FileInfo) error {
	want, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	got, err := f.Stat()
	if err != nil {
		return fmt.Errorf("keeping the users file's owner: %w", err)
	}
	if g, ok := got.Sys().(*syscall.Stat_t); ok && g.Uid == want.Uid && g.Gid == want.Gid {
		return nil
	}
	if err := f.Chown(int(want.Uid), int(want.Gid)); err != nil {
		return fmt.Errorf("keeping the users file's owner %d:%d: %w", want.Uid, want.Gid, err)
	}
	return nil
}
