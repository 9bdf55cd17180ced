// System.IO.UnixFileMode (implicit usings) collides with the contract's mode helper; the contract's wins here.
global using UnixFileMode = MountFs.Vfs.UnixFileMode;
