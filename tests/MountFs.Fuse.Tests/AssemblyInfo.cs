// FUSE exists only on Linux; every test here mounts or speaks its protocol.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
