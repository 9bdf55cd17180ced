namespace MountFs.Fat;

/// <summary>The three FAT entry widths.</summary>
public enum FatType
{
    Fat12 = 12,
    Fat16 = 16,
    Fat32 = 32,
}
