package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading /proc/self/mountinfo for whether a directory's mount maps code. */
class MountOptionsTest {
    private static final List<String> MOUNTINFO = List.of(
            "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
            "45 27 0:40 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=65536k",
            "46 27 8:2 / /var/lib/nexus rw,relatime - ext4 /dev/sda2 rw",
            "47 27 0:41 / /mnt/with\\040space rw,noexec - tmpfs tmpfs rw",
            "48 27 8:3 / /srv rw,noexec - ext4 /dev/sda3 rw",
            "49 48 8:3 / /srv rw - ext4 /dev/sda3 rw");

    @Test
    void aDirectoryIsOnTheMountWhosePointIsItsLongestPrefix() {
        assertTrue(MountOptions.noexec(Path.of("/tmp"), MOUNTINFO));
        assertTrue(MountOptions.noexec(Path.of("/tmp/nexus-native-0"), MOUNTINFO));
        assertFalse(MountOptions.noexec(Path.of("/var/lib/nexus/tmp"), MOUNTINFO));
        assertFalse(MountOptions.noexec(Path.of("/tmpfoo"), MOUNTINFO), "a mount point is a whole name, not a string prefix");
        assertFalse(MountOptions.noexec(Path.of("/home"), MOUNTINFO));
    }

    @Test
    void escapedSpacesAreReadAndALaterMountCoversAnEarlierOne() {
        assertTrue(MountOptions.noexec(Path.of("/mnt/with space/x"), MOUNTINFO));
        assertFalse(MountOptions.noexec(Path.of("/srv/data"), MOUNTINFO), "remounted without noexec over the first");
    }

    @Test
    void thisMachinesRootIsRead() {
        assertFalse(MountOptions.noexec(Path.of(System.getProperty("java.home"))), "the JDK runs from where it is installed");
    }
}
