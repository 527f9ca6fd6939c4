//go:build !unix

package users

import "os"

// keepOwner: files have no Unix owner here.
func keepOwner(*os.File, os.FileInfo) error { return nil }
