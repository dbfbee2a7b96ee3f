// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// firebreak's test stand-ins for a SEAL Safe Harbor v3 registry and agreement:
// the same read ABI (types, getters, errors), none of the validation or
// ownership logic. Tests deploy
// them on anvil to check that `firebreak verify` reads an agreement as the
// public registry serves it.

enum ChildContractScope { None, ExistingOnly, All, FutureOnly }
enum IdentityRequirements { Anonymous, Pseudonymous, Named }

struct Contact { string name; string contact; }
struct Account { string accountAddress; ChildContractScope childContractScope; }
struct Chain { string assetRecoveryAddress; Account[] accounts; string caip2ChainId; }
struct BountyTerms {
    uint256 bountyPercentage;
    uint256 bountyCapUSD;
    bool retainable;
    IdentityRequirements identity;
    string diligenceRequirements;
    uint256 aggregateBountyCapUSD;
}
struct AgreementDetails {
    string protocolName;
    Contact[] contactDetails;
    Chain[] chains;
    BountyTerms bountyTerms;
    string agreementURI;
}

contract AgreementV3 {
    // the details, ABI-encoded as getDetails() returns them; the terms and
    // chain ids as their getters return them
    bytes private encoded;
    BountyTerms private terms;
    string[] private chainIds;

    constructor(bytes memory encodedDetails, BountyTerms memory terms_, string[] memory chainIds_) {
        encoded = encodedDetails;
        terms = terms_;
        chainIds = chainIds_;
    }

    function getDetails() external view returns (AgreementDetails memory) {
        bytes memory b = encoded;
        assembly { return(add(b, 32), mload(b)) }
    }

    function getBountyTerms() external view returns (BountyTerms memory) { return terms; }

    function getChainIds() external view returns (string[] memory) { return chainIds; }
}

contract SafeHarborRegistryV3 {
    mapping(address => address) private agreements;

    error SafeHarborRegistry__NoAgreement();

    function version() external pure returns (string memory) { return "3.0.0"; }

    function adoptSafeHarbor(address agreementAddress) external { agreements[msg.sender] = agreementAddress; }

    function getAgreement(address adopter) external view returns (address) {
        address a = agreements[adopter];
        if (a == address(0)) revert SafeHarborRegistry__NoAgreement();
        return a;
    }
}
