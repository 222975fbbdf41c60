package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mpgs/mpgameserver/conn"
)

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsWith("keygen", "keygen [--name NAME] DIR", "Writes a new P-256 root key pair into DIR, creating it (mode 0700) when\n"+
		"missing: NAME.key (PKCS#8 PEM private key, for the server's --key; mode\n"+
		"0600) and NAME.pub (PEM public key, for clients to pin). Same files as\n"+
		"the Python mpgameserver's genkey.", stderr)
	name := fs.String("name", "root", "base name of the key files")
	if err := fs.Parse(args); err != nil {
		return parseErr(err)
	}
	if err := applyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "keygen: give exactly one directory")
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("key directory %q: %w", dir, err)
	}
	k, err := conn.GenerateKey(nil)
	if err != nil {
		return err
	}
	priv := filepath.Join(dir, *name+".key")
	pub := filepath.Join(dir, *name+".pub")
	if err := conn.SavePrivateKey(priv, k); err != nil {
		return fmt.Errorf("private key file %q: %w", priv, err)
	}
	if err := conn.SavePublicKey(pub, k.Public()); err != nil {
		return fmt.Errorf("public key file %q: %w", pub, err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", priv, pub)
	return nil
}
