global using UnixFileMode = MountFs.Vfs.UnixFileMode;
