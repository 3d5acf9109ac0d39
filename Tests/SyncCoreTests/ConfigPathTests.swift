import SyncCore
import Testing

/// Every spelling of a config folder means one folder (an empty render from a mis-spelled folder once pruned a
/// whole region).
struct ConfigPathTests {
    @Test(arguments: [
        ("mesh", "mesh"), ("./mesh", "mesh"), ("/mesh", "mesh"), ("mesh/", "mesh"), ("mesh//", "mesh"),
        ("./mesh/./base//", "mesh/base"), (".", ""), ("./", ""), ("", ""), ("/", ""),
    ])
    func repositoryFolders(spelling: String, folder: String) {
        #expect(ConfigPath.inRepository(spelling) == folder)
    }

    @Test func aFolderThatLeavesTheRepositoryIsRefused() {
        #expect(ConfigPath.inRepository("../other") == nil)
        #expect(ConfigPath.inRepository("mesh/../../x") == nil)
    }

    @Test(arguments: [
        ("mesh", "mesh"), ("./mesh", "mesh"), ("mesh/", "mesh"), ("mesh//base", "mesh/base"), (".", "."),
        ("./", "."), ("/tmp//x/", "/tmp/x"), ("/", "/"),
    ])
    func diskFolders(spelling: String, folder: String) {
        #expect(ConfigPath.onDisk(spelling) == folder)
    }
}
