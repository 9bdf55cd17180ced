namespace MountFs.Fat;

/// <summary>DIR_Attr bits.</summary>
[Flags]
public enum FatAttributes : byte
{
    None = 0,
    ReadOnly = 0x01,
    Hidden = 0x02,
    System = 0x04,
    VolumeId = 0x08,
    Directory = 0x10,
    Archive = 0x20,
    /// <summary>RO|Hidden|System|VolumeId marks a long-name slot.</summary>
    LongName = 0x0F,
}
