package dev.nexus.server;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.Charset;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Replaces this process's image with another program ({@code execv(2)}), keeping the pid, the
 * parent, the terminal and the open standard streams. The launcher uses it to become the relay JVM
 * instead of starting it as a child: one JVM instead of two (a fresh relay held ≈ 47 MiB RSS more
 * with the waiting launcher beside it), and the supervisor's signals, {@code kill -9} included,
 * reach the relay itself.
 *
 * <p>The JDK has no exec, so libc's is called through jnr-ffi, which the jar already carries for the
 * LMDB backend. Where that cannot work (not Linux, no writable temp directory for jnr's stub, a
 * libc without these symbols), {@link #replaceWith} returns the reason and the caller falls back.
 */
final class ProcessImage {
    /** {@code fcntl} commands and flag, and {@code sigprocmask}'s "set" (Linux, every architecture). */
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int SIG_SETMASK = 2;
    /** glibc's sigset_t is 1024 bits; an all-zero one unblocks everything. */
    private static final int SIGSET_BYTES = 128;

    /** The libc functions used; jnr-ffi binds them by name. */
    public interface LibC {
        int execv(Pointer path, Pointer argv);

        int fcntl(int fd, int cmd, int arg);

        int sigprocmask(int how, Pointer set, Pointer oldSet);
    }

    private ProcessImage() {}

    /**
     * Executes {@code command} (an absolute program path first) in place of this JVM. Returns only
     * if that failed, with a sentence saying why; nothing has changed for the running JVM then
     * except that its descriptors are marked close-on-exec (which only matters to a later exec) and
     * the calling thread's signal mask is empty.
     */
    static String replaceWith(List<String> command) {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return "exec is only used on Linux";
        }
        LibC libc;
        // jffi would otherwise use sun.misc.Unsafe, which JDK 24+ warns about on stderr, and this
        // JVM's options cannot be chosen; its own native memory calls do the same job here.
        if (System.getProperty("jffi.unsafe.disabled") == null) System.setProperty("jffi.unsafe.disabled", "true");
        // jffi unpacks its stub into java.io.tmpdir; where that will not map code it leaves the copy
        // there and loads another from the working directory: one file left per start. Straight to
        // the working directory then (named, jffi tries no other place; the relay JVM is pointed at
        // its own directory by NativeLibraries), or, where that will not do either, not at all.
        if (System.getProperty("jffi.extract.dir") == null && !NoexecCheck.mapsCode(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))) {
            String workingDirectory = System.getProperty("user.dir");
            if (!NoexecCheck.mapsCode(java.nio.file.Path.of(workingDirectory))) {
                return "jnr-ffi's stub can be loaded from neither java.io.tmpdir nor the working directory " + workingDirectory;
            }
            System.setProperty("jffi.extract.dir", workingDirectory);
        }
        try {
            libc = LibraryLoader.create(LibC.class).failImmediately().load("c");
        } catch (Throwable e) { // UnsatisfiedLinkError, or jnr's own errors when its stub cannot load
            return "libc not reachable through jnr-ffi (" + e + ")";
        }
        Runtime runtime = Runtime.getRuntime(libc);
        // The encoding the JDK itself uses for file names and arguments (not file.encoding, which is
        // UTF-8 on JDK 18+ whatever the locale).
        Charset charset = jnuCharset();
        // The strings stay referenced from `keep` until execv: jnr frees direct memory when collected.
        List<Pointer> keep = new ArrayList<>();
        int pointerSize = runtime.addressSize();
        Pointer argv = Memory.allocateDirect(runtime, (command.size() + 1) * pointerSize, true);
        for (int i = 0; i < command.size(); i++) {
            byte[] bytes = command.get(i).getBytes(charset);
            Pointer arg = Memory.allocateDirect(runtime, bytes.length + 1, true);
            arg.put(0, bytes, 0, bytes.length);
            arg.putByte(bytes.length, (byte) 0);
            keep.add(arg);
            argv.putPointer((long) i * pointerSize, arg);
        }
        argv.putAddress((long) command.size() * pointerSize, 0L);

        // The new JVM must not inherit this one's jar and log descriptors (HotSpot's own are
        // close-on-exec; the JDK's streams are not all), nor the signals HotSpot blocks in Java
        // threads: a blocked SIGQUIT would survive the exec into the relay's main thread.
        markDescriptorsCloseOnExec(libc);
        libc.sigprocmask(SIG_SETMASK, Memory.allocateDirect(runtime, SIGSET_BYTES, true), null);
        System.out.flush();
        System.err.flush();
        libc.execv(keep.get(0), argv); // the program is argv[0], marshalled once
        int errno = runtime.getLastError();
        // jnr frees direct memory once it is unreachable; the strings must outlive the call even when
        // this method is compiled and `keep` looks dead after the loop.
        Reference.reachabilityFence(keep);
        Reference.reachabilityFence(argv);
        return "execv " + command.get(0) + " failed (errno " + errno + ")";
    }

    private static Charset jnuCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
        } catch (RuntimeException unknown) {
            return Charset.defaultCharset();
        }
    }

    private static void markDescriptorsCloseOnExec(LibC libc) {
        try (DirectoryStream<Path> open = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : open) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) continue; // not a descriptor entry
                int fd = Integer.parseInt(name);
                if (fd <= 2) continue; // stdin, stdout, stderr are the relay's own
                int flags = libc.fcntl(fd, F_GETFD, 0);
                if (flags >= 0 && (flags & FD_CLOEXEC) == 0) libc.fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
            }
        } catch (IOException e) {
            // no /proc: leave them; a leaked read-only jar descriptor costs little
        }
    }
}
